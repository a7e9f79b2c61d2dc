"""Normalised Laplacian Pyramid Distance (Laparra, Balle, Berardino, Simoncelli 2016),
following protocol.md step by step (the authors' NLP_dist.m)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from percmusic_cli.config import NlpdConfig
from percmusic_cli.metrics._checks import nlpd_min_side, require_side
from percmusic_cli.metrics.mse import _check_pair
from percmusic_cli.metrics.registry import FastPairwise, MetricSpec

# torch loads when images are first compared, not when the metric is looked up (msssim.py).
if TYPE_CHECKING:
    from torch import Tensor

_W = (0.05, 0.25, 0.4, 0.25, 0.05)
SIGMAS = (0.0248, 0.0185, 0.0179, 0.0191, 0.0220, 0.2782)
# 3x3 divisive-normalisation filters P_i, row by row, as published (not yet rotated).
P_FILTERS = (
    ((0, 0.1011, 0), (0.1493, 0, 0.1460), (0, 0.1015, 0)),
    ((0, 0.0757, 0), (0.1986, 0, 0.1846), (0, 0.0837, 0)),
    ((0, 0.0477, 0), (0.2138, 0, 0.2243), (0, 0.0467, 0)),
    ((0, 0, 0), (0.2503, 0, 0.2616), (0, 0, 0)),
    ((0, 0, 0), (0.2598, 0, 0.2552), (0, 0, 0)),
    ((0, 0, 0), (0.2215, 0, 0.0717), (0, 0, 0)),
)


def _lowpass(x: Tensor) -> Tensor:
    import torch

    w = x.new_tensor(_W)
    return torch.outer(w, w).view(1, 1, 5, 5)


def _symmetric_pad2(x: Tensor) -> Tensor:
    """Matlab 'symmetric' padding by 2 (edge included): [b a | a b ... y z | z y]."""
    import torch

    h, w = x.shape[-2:]
    rows = torch.tensor([1, 0, *range(h), h - 1, h - 2], device=x.device)
    cols = torch.tensor([1, 0, *range(w), w - 1, w - 2], device=x.device)
    return x.index_select(-2, rows).index_select(-1, cols)


def _upsample(low: Tensor, f: Tensor, size: tuple[int, int]) -> Tensor:
    """Replicate-pad by 1, interleave zeros (4x each sample at even positions), filter with
    zero padding 2, drop the first 2 rows and columns, keep `size`."""
    import torch.nn.functional as F

    padded = F.pad(low, (1, 1, 1, 1), mode="replicate")
    b, c, h, w = padded.shape
    up = padded.new_zeros(b, c, 2 * h, 2 * w)
    up[:, :, ::2, ::2] = 4 * padded
    smooth = F.conv2d(up, f, padding=2)
    return smooth[:, :, 2 : 2 + size[0], 2 : 2 + size[1]]


def _normalise(band: Tensor, level: int) -> Tensor:
    import torch.nn.functional as F

    # conv2 is a true convolution: cross-correlate with P rotated by 180 degrees.
    p = band.new_tensor(P_FILTERS[level]).flip(0, 1).view(1, 1, 3, 3)
    return band / (SIGMAS[level] + F.conv2d(band.abs(), p, padding=1))


def nlpd_pyramid(x: Tensor, config: NlpdConfig = NlpdConfig()) -> list[Tensor]:
    """Normalised Laplacian pyramid bands n_0 .. n_{K-1} of a (B, 1, H, W) batch."""
    import torch.nn.functional as F

    if x.dim() != 4 or x.shape[1] != 1:
        raise ValueError(f"expected a (B, 1, H, W) batch, got {tuple(x.shape)}")
    need = nlpd_min_side(config)
    require_side(x.shape[-2], x.shape[-1], "nlpd", need, f"{config.levels} pyramid levels")
    if config.levels > len(SIGMAS):
        raise ValueError(f"NLPD has constants for at most {len(SIGMAS)} levels")
    f = _lowpass(x)
    bands: list[Tensor] = []
    j = x
    for level in range(config.levels - 1):
        low = F.conv2d(_symmetric_pad2(j), f, stride=2)
        band = j - _upsample(low, f, (j.shape[-2], j.shape[-1]))
        bands.append(_normalise(band, level))
        j = low
    bands.append(_normalise(j, config.levels - 1))
    return bands


def safe_sqrt(x: Tensor) -> Tensor:
    """sqrt with value 0 and gradient 0 at 0 (identical images), instead of an infinite one.
    Only an exact 0 is special-cased: NaN (a diverging model) stays NaN, so the training
    loop's divergence check sees it."""
    import torch

    zero = x == 0
    return torch.where(zero, 0.0, torch.sqrt(torch.where(zero, torch.ones_like(x), x)))


def nlpd(x: Tensor, y: Tensor, config: NlpdConfig = NlpdConfig()) -> Tensor:
    """NLPD per image of (B, 1, H, W) batches: mean over levels of the RMS band difference."""
    import torch

    _check_pair(x, y)
    px, py = nlpd_pyramid(x, config), nlpd_pyramid(y, config)
    per_level = [safe_sqrt((a - b).pow(2).flatten(1).mean(1)) for a, b in zip(px, py, strict=True)]
    return torch.stack(per_level, dim=0).mean(0)


def _prepare(images: np.ndarray, config: NlpdConfig, device: str) -> Any:
    from percmusic_cli.metrics._gram import prepare_nlpd

    return prepare_nlpd(images, config, device)


def _tile(rows: Any, cols: Any, r: slice, c: slice) -> np.ndarray:
    from percmusic_cli.metrics._gram import gram_tile

    return gram_tile(rows, cols, r, c)


def _distance(x: Tensor, y: Tensor, config: NlpdConfig) -> Tensor:
    return nlpd(x, y, config)


SPEC = MetricSpec(
    name="nlpd",
    label="NLPD",
    distance=_distance,
    config_type=NlpdConfig,
    min_side=nlpd_min_side,
    fast_pairwise=FastPairwise(_prepare, _tile, parallel_tiles=True),
    study=True,
)
