"""Fused per-pixel 1 - MS-SSIM cross term on CPU (numba).

Batched tensor code is memory bound here (protocol.md: ~25 ms/pair); this loop keeps a ring of
`win` horizontally filtered product rows in cache and, per output row, filters vertically,
applies the SSIM formula and sums, in one pass. Per image, the pooled images, local means and
variances of every scale come precomputed (flattened, `offsets` per scale)."""

from __future__ import annotations

import numba
import numpy as np
from numba import prange

_FAST = {"nnan", "ninf", "nsz", "arcp", "afn"}


# error_model="numpy": no zero-division checks, which would stop the loops vectorising; the
# loops index views with the bare loop variable so no negative-index wraparound is emitted.
# Fast-math without reassociation or contraction: with them the sums' order (and fused
# multiply-adds) depended on how LLVM inlined this function, so a freshly compiled copy and
# the cached one gave different last bits, and a resumed matrix differed from its first run.
@numba.njit(fastmath=_FAST, cache=True, nogil=True, error_model="numpy")
def _scale_terms(
    xa: np.ndarray,
    xb: np.ndarray,
    mua: np.ndarray,
    mub: np.ndarray,
    s2a: np.ndarray,
    s2b: np.ndarray,
    height: int,
    width: int,
    g: np.ndarray,
    c1: float,
    c2: float,
    want_ssim: bool,
) -> tuple[float, float]:
    k = g.shape[0]
    wo = width - k + 1
    ho = height - k + 1
    ring = np.empty((k, wo), np.float32)
    prod = np.empty(width, np.float32)
    acc = np.empty(wo, np.float32)
    c1f = np.float32(c1)
    c2f = np.float32(c2)
    two = np.float32(2.0)  # a Python 2 would promote the formula to float64
    cs_sum = np.float64(0.0)
    ssim_sum = np.float64(0.0)
    for row in range(height):
        ra = xa[row * width : (row + 1) * width]
        rb = xb[row * width : (row + 1) * width]
        for j in range(width):
            prod[j] = ra[j] * rb[j]
        slot = ring[row % k]
        g0 = g[0]
        for j in range(wo):
            slot[j] = g0 * prod[j]
        for t in range(1, k):
            gt = g[t]
            shifted = prod[t : t + wo]
            for j in range(wo):
                slot[j] += gt * shifted[j]
        if row < k - 1:
            continue
        i = row - (k - 1)
        first = ring[i % k]
        for j in range(wo):
            acc[j] = g0 * first[j]
        for t in range(1, k):
            rt = ring[(i + t) % k]
            gt = g[t]
            for j in range(wo):
                acc[j] += gt * rt[j]
        lo, hi = i * wo, (i + 1) * wo
        m1, m2, v1, v2 = mua[lo:hi], mub[lo:hi], s2a[lo:hi], s2b[lo:hi]
        cs_row = np.float32(0.0)
        ssim_row = np.float32(0.0)
        if want_ssim:
            for j in range(wo):
                m12 = m1[j] * m2[j]
                cs = (two * (acc[j] - m12) + c2f) / (v1[j] + v2[j] + c2f)
                cs_row += cs
                ssim_row += (two * m12 + c1f) / (m1[j] * m1[j] + m2[j] * m2[j] + c1f) * cs
        else:
            for j in range(wo):
                cs_row += (two * (acc[j] - m1[j] * m2[j]) + c2f) / (v1[j] + v2[j] + c2f)
        cs_sum += np.float64(cs_row)
        ssim_sum += np.float64(ssim_row)
    n = ho * wo
    return float(cs_sum / n), float(ssim_sum / n)


@numba.njit(parallel=True, cache=True)
def msssim_pairs(
    ia: np.ndarray,
    ib: np.ndarray,
    xa: np.ndarray,
    mua: np.ndarray,
    s2a: np.ndarray,
    xb: np.ndarray,
    mub: np.ndarray,
    s2b: np.ndarray,
    x_off: np.ndarray,
    m_off: np.ndarray,
    heights: np.ndarray,
    widths: np.ndarray,
    g: np.ndarray,
    c1: float,
    c2: float,
    weights: np.ndarray,
    out: np.ndarray,
) -> None:
    """out[p] = 1 - MS-SSIM(image ia[p] of set a, image ib[p] of set b)."""
    scales = weights.shape[0]
    for p in prange(ia.shape[0]):
        a = ia[p]
        b = ib[p]
        value = 1.0
        for s in range(scales):
            x0, x1 = x_off[s], x_off[s + 1]
            m0, m1 = m_off[s], m_off[s + 1]
            last = s == scales - 1
            cs, ssim = _scale_terms(
                xa[a, x0:x1], xb[b, x0:x1], mua[a, m0:m1], mub[b, m0:m1],
                s2a[a, m0:m1], s2b[b, m0:m1], heights[s], widths[s], g, c1, c2, last,
            )  # fmt: skip
            term = ssim if last else cs
            # relu of each term before the weighted product, as pytorch_msssim does
            value *= max(term, 0.0) ** weights[s]
        out[p] = 1.0 - value
