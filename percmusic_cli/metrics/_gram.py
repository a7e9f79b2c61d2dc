"""Pairwise MSE and NLPD from per-image features, squared norms and one matrix product per
level: ||a - b||^2 = ||a||^2 + ||b||^2 - 2 <a, b>, in float64 so that near-identical images
keep their precision (float32 would lose ~1e-5 of the norms), with the few pairs still in the
cancellation regime recomputed directly."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from percmusic_cli.config import NlpdConfig
from percmusic_cli.devices import one_thread_per_op
from percmusic_cli.metrics.nlpd import P_FILTERS, SIGMAS, nlpd_pyramid

# Below this fraction of ||a||^2 + ||b||^2 the product form has too few correct digits left.
_CANCELLATION = 1e-6
_PREPARE_CHUNK = 16


@dataclass(frozen=True)
class GramState:
    """Per level: features (N, D_l) float64 and their squared norms (N,)."""

    features: tuple[Tensor, ...]
    sq_norms: tuple[Tensor, ...]
    rms_per_level: bool  # NLPD: mean over levels of sqrt(mean sq); MSE: mean sq, one level


def _chunks(n: int, size: int) -> list[slice]:
    return [slice(i, min(i + size, n)) for i in range(0, n, size)]


def _level_shapes(h: int, w: int, levels: int) -> list[tuple[int, int]]:
    shapes = [(h, w)]
    for _ in range(levels - 1):
        h, w = (h - 1) // 2 + 1, (w - 1) // 2 + 1
        shapes.append((h, w))
    return shapes


def _nlpd_cpu(images: np.ndarray, config: NlpdConfig, feats: list[Tensor]) -> None:
    from percmusic_cli.metrics._prepare_numba import nlpd_bands

    levels = config.levels
    p = np.array(P_FILTERS[:levels], dtype=np.float64)
    sigmas = np.array(SIGMAS[:levels], dtype=np.float64)
    sizes = [f.shape[1] for f in feats]
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    for sl in _chunks(images.shape[0], _PREPARE_CHUNK):
        flat = np.empty((sl.stop - sl.start, int(offsets[-1])), dtype=np.float64)
        nlpd_bands(images[sl], p, sigmas, offsets, flat)
        for lev, dst in enumerate(feats):
            dst[sl] = torch.from_numpy(flat[:, offsets[lev] : offsets[lev + 1]])


def _nlpd_torch(images: np.ndarray, config: NlpdConfig, feats: list[Tensor]) -> None:
    for sl in _chunks(images.shape[0], _PREPARE_CHUNK):
        x = torch.from_numpy(images[sl]).to(device=feats[0].device, dtype=torch.float64)[:, None]
        with torch.no_grad():
            for dst, band in zip(feats, nlpd_pyramid(x, config), strict=True):
                dst[sl] = band.flatten(1)


def prepare_pixels(images: np.ndarray, device: str) -> GramState:
    """MSE state: the pixels as one level."""
    n, h, w = images.shape
    feats = [torch.from_numpy(images.reshape(n, h * w)).to(device, torch.float64)]
    return _with_norms(feats, rms_per_level=False)


def prepare_nlpd(images: np.ndarray, config: NlpdConfig, device: str) -> GramState:
    """NLPD state: the normalised Laplacian pyramid bands, one level each."""
    n, h, w = images.shape
    shapes = _level_shapes(h, w, config.levels)
    feats = [torch.empty(n, a * b, dtype=torch.float64, device=device) for a, b in shapes]
    if device == "cpu":
        _nlpd_cpu(images, config, feats)
    else:
        _nlpd_torch(images, config, feats)
    return _with_norms(feats, rms_per_level=True)


def _with_norms(feats: list[Tensor], rms_per_level: bool) -> GramState:
    # Norms with a fixed reduction order, as the tiles (see devices.one_thread_per_op).
    with one_thread_per_op(str(feats[0].device.type)):
        norms = tuple(_sq_norms(f) for f in feats)
    return GramState(tuple(feats), norms, rms_per_level)


def _sq_norms(features: Tensor) -> Tensor:
    """Row-wise sum of squares in chunks: `f * f` whole would double peak memory."""
    out = features.new_empty(features.shape[0])
    for sl in _chunks(features.shape[0], _PREPARE_CHUNK):
        block = features[sl]
        out[sl] = (block * block).sum(1)
    return out


def _level_sq_dist(fa: Tensor, fb: Tensor, na: Tensor, nb: Tensor, same: Tensor | None) -> Tensor:
    total = na[:, None] + nb[None, :]
    d2 = total - 2.0 * (fa @ fb.T)
    close = d2 < _CANCELLATION * total
    if same is not None:  # an image against itself: exactly 0, nothing to recompute
        close &= ~same
        d2[same] = 0.0
    for i, j in torch.nonzero(close).tolist():
        d2[i, j] = _direct_sq_dist(fa[i], fb[j])
    return d2.clamp_min_(0.0)


def _direct_sq_dist(a: Tensor, b: Tensor) -> float:
    """One pair at a time: a batched gather would copy whole feature rows per pair."""
    if a.device.type == "cpu":
        from percmusic_cli.metrics._sqdist_numba import sq_dist

        return float(sq_dist(a.numpy(), b.numpy()))
    d_t = a - b
    return float(d_t @ d_t)


def gram_tile(rows: GramState, cols: GramState, r: slice, c: slice) -> np.ndarray:
    """MSE or NLPD between rows[r] and cols[c]. On the CPU, call it inside
    `devices.one_thread_per_op` (pairwise runs tiles side by side) so the bits of a tile do
    not depend on how a library split its products between threads."""
    same = None
    if rows is cols:
        ri = torch.arange(r.start, r.stop, device=rows.features[0].device)
        ci = torch.arange(c.start, c.stop, device=rows.features[0].device)
        same = ri[:, None] == ci[None, :]
    out: Tensor | None = None
    levels = zip(rows.features, cols.features, rows.sq_norms, cols.sq_norms, strict=True)
    for fa, fb, na, nb in levels:
        mean_sq = _level_sq_dist(fa[r], fb[c], na[r], nb[c], same) / fa.shape[1]
        term = mean_sq.sqrt() if rows.rms_per_level else mean_sq
        out = term if out is None else out + term
    assert out is not None
    return (out / len(rows.features)).cpu().numpy().astype(np.float64, copy=False)
