"""Per-image MS-SSIM state (pooled image, local mean and variance at every scale) and the
pairwise cross term: fused numba loop on CPU, batched torch on CUDA."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from percmusic_cli.config import MsssimConfig
from percmusic_cli.metrics.msssim import blur, combine, constants, downsample, gaussian_window

_PREPARE_CHUNK = 16
_CUDA_PAIRS = 256
# The kernel runs a group of pairs through each scale together, four rows at a time, so an
# image with several pairs in the group is read from DRAM once per group, not once per pair
# (x, mean and variance at every scale: ~2.5 MB per image, 2.3 GB for 930, far beyond the
# caches). A tile is cut into blocks of _BLOCK = (first images, second images): 4 x 4 reads
# 8 images for 16 pairs where runs of 16 pairs sharing their first image read 17, and ran
# 1.3-1.5x faster per pair; 4 x 2 and 3 x 3 measured within noise of it, 2 x 8, 4 x 8 and
# 8 x 4 slower (benchmarks/RESULTS.md). An arbitrary pair list falls back to
# runs of at most _PAIR_GROUP pairs that share their first image. Either way every pair's
# arithmetic is the same, so neither changes a bit (tests/unit/test_msssim_groups.py).
_PAIR_GROUP = 16
_BLOCK = (4, 4)


@dataclass(frozen=True)
class MsssimState:
    """Per scale s: pooled image x_s, local mean mu_s and variance var_s (valid window), float32.
    On CUDA `tensors` holds (x, mu, var) per scale as (N, 1, h, w); on CPU `flat` holds the
    scales side by side as three (N, D) arrays for the numba kernel. `shapes` are the (h, w) of
    x per scale."""

    shapes: tuple[tuple[int, int], ...]
    tensors: tuple[tuple[Tensor, Tensor, Tensor], ...] | None
    flat: tuple[np.ndarray, np.ndarray, np.ndarray] | None
    config: MsssimConfig


def _scale_stats(x: Tensor, win: Tensor, scales: int) -> list[tuple[Tensor, Tensor, Tensor]]:
    out = []
    for s in range(scales):
        mu = blur(x, win)
        out.append((x.float(), mu.float(), (blur(x * x, win) - mu * mu).float()))
        if s < scales - 1:
            x = downsample(x)
    return out


def _scale_shapes(h: int, w: int, scales: int) -> tuple[tuple[int, int], ...]:
    shapes = [(h, w)]
    for _ in range(scales - 1):
        h, w = h // 2 + h % 2, w // 2 + w % 2  # avg_pool2d(2) with padding = side % 2
        shapes.append((h, w))
    return tuple(shapes)


def _prepare_cpu(images: np.ndarray, config: MsssimConfig) -> MsssimState:
    from percmusic_cli.metrics._prepare_numba import msssim_stats

    n, h, w = images.shape
    shapes = _scale_shapes(h, w, len(config.weights))
    layout = MsssimState(shapes, None, None, config)
    x_off, m_off, _, _ = _layout(layout)
    xs = np.empty((n, int(x_off[-1])), dtype=np.float32)
    mus = np.empty((n, int(m_off[-1])), dtype=np.float32)
    vs = np.empty((n, int(m_off[-1])), dtype=np.float32)
    g = gaussian_window(config, torch.float64, "cpu").numpy()
    msssim_stats(images, g, len(shapes), x_off, m_off, xs, mus, vs)
    return MsssimState(shapes, None, (xs, mus, vs), config)


def _prepare_torch(images: np.ndarray, config: MsssimConfig, device: str) -> MsssimState:
    scales = len(config.weights)
    win = gaussian_window(config, torch.float64, device)
    per_scale: list[list[tuple[Tensor, Tensor, Tensor]]] = [[] for _ in range(scales)]
    for i in range(0, images.shape[0], _PREPARE_CHUNK):
        x = torch.from_numpy(images[i : i + _PREPARE_CHUNK]).to(device, torch.float64)[:, None]
        for s, stats in enumerate(_scale_stats(x, win, scales)):
            per_scale[s].append(stats)
    shapes = tuple((int(p[0][0].shape[-2]), int(p[0][0].shape[-1])) for p in per_scale)
    joined = tuple(
        (torch.cat([t[0] for t in p]), torch.cat([t[1] for t in p]), torch.cat([t[2] for t in p]))
        for p in per_scale
    )
    return MsssimState(shapes, joined, None, config)


def prepare_msssim(images: np.ndarray, config: MsssimConfig, device: str) -> MsssimState:
    """Statistics computed in float64 (accurate variances), kept in float32."""
    if device == "cpu":
        return _prepare_cpu(images, config)
    return _prepare_torch(images, config, device)


def _layout(state: MsssimState) -> tuple[np.ndarray, ...]:
    hs = np.array([h for h, _ in state.shapes], dtype=np.int64)
    ws = np.array([w for _, w in state.shapes], dtype=np.int64)
    k = state.config.win_size
    x_off = np.concatenate([[0], np.cumsum(hs * ws)]).astype(np.int64)
    m_off = np.concatenate([[0], np.cumsum((hs - k + 1) * (ws - k + 1))]).astype(np.int64)
    return x_off, m_off, hs, ws


def kernel_args(
    rows: MsssimState, cols: MsssimState, ia: np.ndarray, ib: np.ndarray, starts: np.ndarray
) -> tuple[Any, ...]:
    """The numba kernel's arguments after its span, `out` (float64, one per pair) last."""
    assert rows.flat is not None and cols.flat is not None
    cfg = rows.config
    x_off, m_off, hs, ws = _layout(rows)
    g = gaussian_window(cfg, torch.float32, "cpu").numpy()
    c1, c2 = constants(cfg)
    out = np.empty(ia.shape[0], dtype=np.float64)
    weights = np.asarray(cfg.weights, dtype=np.float64)
    return (ia, ib, starts, *rows.flat, *cols.flat, x_off, m_off, hs, ws, g, c1, c2, weights, out)


def _pairs_cpu(
    rows: MsssimState, cols: MsssimState, ia: np.ndarray, ib: np.ndarray, starts: np.ndarray
) -> np.ndarray:
    """The numba kernel on pairs (ia, ib) in the groups `starts`."""
    from percmusic_cli.metrics._msssim_numba import msssim_groups
    from percmusic_cli.metrics._spans import in_spans

    args = kernel_args(rows, cols, ia, ib, starts)

    def work(t0: int, t1: int) -> None:
        msssim_groups(t0, t1, *args)

    # One group per span, handed out as threads free up (_spans.py). Pairs are independent,
    # so neither the grouping nor the spans change a bit.
    in_spans(work, starts.shape[0] - 1)
    out: np.ndarray = args[-1]
    return out


def pair_groups(ia: np.ndarray, size: int) -> np.ndarray:
    """Start of each run of at most `size` consecutive pairs with the same first image, then
    len(ia): the kernel reads that image once per group."""
    n = ia.shape[0]
    idx = np.arange(n)
    new = np.ones(n, dtype=bool)
    new[1:] = ia[1:] != ia[:-1]
    run_start = np.maximum.accumulate(np.where(new, idx, 0)) if n else idx
    first = (idx - run_start) % size == 0
    return np.append(np.flatnonzero(first), n).astype(np.int64)


def block_pairs(
    n_rows: int, n_cols: int, block: tuple[int, int], upper: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A tile's pairs (i, j), i < j only when `upper`, cut into blocks of block[0] rows x
    block[1] columns: the pairs' row and column indices, block after block (row-major) and
    row by row within a block, and the start of each block's pairs, then the pair count.
    Blocks on a diagonal hold only their pairs above it; blocks without pairs are dropped."""
    i, j = np.divmod(np.arange(n_rows * n_cols, dtype=np.int64), n_cols)
    if upper:
        keep = i < j
        i, j = i[keep], j[keep]
    bi, bj = i // block[0], j // block[1]
    order = np.lexsort((j, i, bj, bi))
    i, j, bi, bj = i[order], j[order], bi[order], bj[order]
    new = np.ones(i.shape[0], dtype=bool)
    new[1:] = (bi[1:] != bi[:-1]) | (bj[1:] != bj[:-1])
    return i, j, np.append(np.flatnonzero(new), i.shape[0]).astype(np.int64)


def _pairs_torch(rows: MsssimState, cols: MsssimState, ia: Tensor, ib: Tensor) -> Tensor:
    cfg = rows.config
    c1, c2 = constants(cfg)
    win = gaussian_window(cfg, torch.float32, ia.device)
    cs: list[Tensor] = []
    ssim = ia.new_zeros(0, dtype=torch.float32)
    assert rows.tensors is not None and cols.tensors is not None
    for s, ((xa, mua, va), (xb, mub, vb)) in enumerate(
        zip(rows.tensors, cols.tensors, strict=True)
    ):
        mu1, mu2 = mua[ia], mub[ib]
        mu12 = mu1 * mu2
        s12 = blur(xa[ia] * xb[ib], win) - mu12
        cs_map = (2 * s12 + c2) / (va[ia] + vb[ib] + c2)
        cs.append(cs_map.flatten(1).mean(1))
        if s == len(cfg.weights) - 1:
            lum = (2 * mu12 + c1) / (mu1 * mu1 + mu2 * mu2 + c1)
            ssim = (lum * cs_map).flatten(1).mean(1)
    return 1.0 - combine(cs[:-1], ssim, cfg)


def msssim_pairs_values(
    rows: MsssimState, cols: MsssimState, ia: np.ndarray, ib: np.ndarray
) -> np.ndarray:
    """1 - MS-SSIM for the pairs (rows[ia[p]], cols[ib[p]]), float64, at least 0 (float32
    rounding can put MS-SSIM of near-identical images a few 1e-7 above 1)."""
    if rows.flat is not None:
        ia, ib = ia.astype(np.int64), ib.astype(np.int64)
        return np.maximum(_pairs_cpu(rows, cols, ia, ib, pair_groups(ia, _PAIR_GROUP)), 0.0)
    assert rows.tensors is not None
    device = rows.tensors[0][0].device
    out = []
    # TF32 convolutions would cost ~1e-3 of accuracy on the cross term.
    with torch.no_grad(), torch.backends.cudnn.flags(enabled=True, allow_tf32=False):
        for i in range(0, ia.shape[0], _CUDA_PAIRS):
            ta = torch.from_numpy(ia[i : i + _CUDA_PAIRS]).to(device)
            tb = torch.from_numpy(ib[i : i + _CUDA_PAIRS]).to(device)
            out.append(_pairs_torch(rows, cols, ta, tb).double().cpu())
    return np.maximum(torch.cat(out).numpy(), 0.0) if out else np.empty(0)


def msssim_tile(rows: MsssimState, cols: MsssimState, r: slice, c: slice) -> np.ndarray:
    """1 - MS-SSIM between rows[r] and cols[c], float64 (len r, len c)."""
    ri = np.arange(_count(rows))[r]
    ci = np.arange(_count(cols))[c]
    if rows.flat is not None:
        return _tile_cpu(rows, cols, ri, ci, upper=rows is cols and r == c)
    if rows is cols and r == c:
        # A diagonal block of one set: compute each unordered pair once, mirror it.
        iu, ju = np.triu_indices(len(ri), k=1)
        vals = msssim_pairs_values(rows, cols, ri[iu], ci[ju])
        out = np.zeros((len(ri), len(ci)), dtype=np.float64)
        out[iu, ju] = vals
        out[ju, iu] = vals
        return out
    ia = np.repeat(ri, len(ci))
    ib = np.tile(ci, len(ri))
    return msssim_pairs_values(rows, cols, ia, ib).reshape(len(ri), len(ci))


def _tile_cpu(
    rows: MsssimState, cols: MsssimState, ri: np.ndarray, ci: np.ndarray, upper: bool
) -> np.ndarray:
    """The tile in blocks of _BLOCK; a diagonal tile of one set computes each unordered pair
    once (the upper triangle) and mirrors it."""
    i, j, starts = block_pairs(len(ri), len(ci), _BLOCK, upper)
    vals = np.maximum(_pairs_cpu(rows, cols, ri[i], ci[j], starts), 0.0)
    out = np.zeros((len(ri), len(ci)), dtype=np.float64)
    out[i, j] = vals
    if upper:
        out[j, i] = vals
    return out


def _count(state: MsssimState) -> int:
    if state.flat is not None:
        return int(state.flat[0].shape[0])
    assert state.tensors is not None
    return int(state.tensors[0][0].shape[0])
