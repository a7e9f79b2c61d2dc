"""Latent features of whole spectrograms, pooled over time into one vector per track.

Pooling (`pool`):
- "meanstd": for every latent channel c and latent frequency row f, the mean and the
  (population) standard deviation of z[c, f, :] over time (the width), giving
  D = 2 * channels * rows. The vector is [all means, then all stds], each block ordered
  channel-major (c0f0, c0f1, ..., c1f0, ...). Frequency rows are kept apart because a
  spectrogram's vertical axis is pitch, not an arbitrary position; time is pooled because
  genre should not depend on where in the clip a sound falls.
- "mean": the means only (D = channels * rows).

`pool_images` applies the same pooling to the raw spectrogram (mel bands as rows, one
channel): the no-autoencoder control.

Latent widths are ceil(W / 2^stages) after edge-replication padding (see the autoencoder),
so the last latent column partly sees repeated edge frames; with W = 1290 and 4 stages that is
one column of 81.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from percmusic_cli.config import POOLS
from percmusic_cli.errors import UsageError
from percmusic_cli.models.autoencoder import Autoencoder
from percmusic_cli.progress import NullReporter, Reporter


def _check_pool(pool: str) -> None:
    if pool not in POOLS:
        raise UsageError(f"--pool {pool!r}: choose one of {', '.join(POOLS)}")


def pool_tensor(z: Tensor, pool: str = "meanstd") -> Tensor:
    """(B, C, H, W) -> (B, D): statistics over the last axis (time), per channel and row."""
    _check_pool(pool)
    mean = z.mean(dim=-1).flatten(1)
    if pool == "mean":
        return mean
    std = z.std(dim=-1, unbiased=False).flatten(1)
    return torch.cat([mean, std], dim=1)


def _as_batch(images: np.ndarray) -> np.ndarray:
    """Accept (N, H, W) or (N, 1, H, W); return (N, 1, H, W)."""
    if images.ndim == 3:
        return images[:, None]
    if images.ndim == 4 and images.shape[1] == 1:
        return images
    raise UsageError(f"expected images of shape (N, H, W) or (N, 1, H, W), got {images.shape}")


def pool_images(images: np.ndarray, pool: str = "meanstd") -> np.ndarray:
    """The raw-spectrogram control: per mel band mean (and std) over time; (N, D) float32."""
    batch = torch.from_numpy(np.ascontiguousarray(_as_batch(images), dtype=np.float32))
    # float64 for the statistics: 1290-frame sums in float32 lose the std's low digits.
    return pool_tensor(batch.double(), pool).float().numpy()


def default_batch(device: str) -> int:
    """Tracks per encoding batch when none is given. On a CPU two 128 x 1290 tracks keep a
    layer's activations (about 21 MB) within a 32 MiB L3; sixteen spill to memory: 1.17x
    slower and 2.4x the peak RSS, with the same latents bit for bit
    (benchmarks/encode_batch.py). A GPU wants batches."""
    return 2 if device == "cpu" else 16


@torch.no_grad()
def encode_pooled(
    model: Autoencoder,
    images: np.ndarray,
    pool: str = "meanstd",
    device: str = "cpu",
    batch_size: int | None = None,
    reporter: Reporter | None = None,
) -> np.ndarray:
    """Encode (N, H, W) images in eval mode and pool each latent map; (N, D) float32.
    `batch_size` tracks at a time (None: `default_batch(device)`).

    The model is left on `device` and in eval mode.
    """
    _check_pool(pool)
    batch_size = default_batch(device) if batch_size is None else batch_size
    if batch_size < 1:
        raise UsageError(f"batch_size must be at least 1, got {batch_size}")
    batch = _as_batch(images)
    reporter = reporter or NullReporter()
    model.eval()
    model.to(device)
    chunks: list[np.ndarray] = []
    task = reporter.task("encode", total=len(batch), unit="tracks")
    try:
        for start in range(0, len(batch), batch_size):
            part = np.ascontiguousarray(batch[start : start + batch_size], dtype=np.float32)
            z = model.encode(torch.from_numpy(part).to(device)).double()
            chunks.append(pool_tensor(z, pool).float().cpu().numpy())
            task.advance(len(part))
    finally:
        task.close()
    if not chunks:
        raise UsageError("no images to encode")
    return np.concatenate(chunks, axis=0)
