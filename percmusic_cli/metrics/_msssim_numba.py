"""Fused per-pixel 1 - MS-SSIM cross term on CPU (numba).

Batched tensor code is memory bound here (protocol.md: ~25 ms/pair); this loop keeps a ring of
`win` horizontally filtered product rows in cache and, per output row, filters vertically,
applies the SSIM formula and adds it to per-column sums, in one pass (for the default 7-tap
window, a ring of 10 rows and four output rows per pass, which share their middle 4 input rows).
Per image, the pooled images, local means and variances of every scale come precomputed
(flattened, `offsets` per scale), so a pair costs only its cross term.

Grouping: the pairs of a group run through each scale together, four rows at a time. A tile
(msssim_tile) is cut into blocks of 4 first x 4 second images, so each image's rows come from
DRAM once per block and from cache for its other pairs, where one pair at a time streamed
both images (~2.5 MB at all scales) per pair; a pair list falls back to runs of pairs that
share their first image. Every pair's arithmetic and order of additions is the same in any
group, so the grouping changes no bit (tests/unit/test_msssim_groups.py pins the digests).

Determinism: fast-math without reassociation or contraction. With them the sums' order (and
fused multiply-adds) depended on how LLVM inlined this code, so a freshly compiled copy and the
cached one gave different last bits, and a resumed matrix differed from its first run. Every
loop that vectorises is element-wise (each output element's arithmetic is written out in a
fixed order), and the only reductions are the per-column running sums over rows (element-wise
too) and one short sequential float64 sum per scale, so SIMD or not, the bits are the same."""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

from percmusic_cli.metrics._simd import allow_wide_vectors

allow_wide_vectors()  # before numba compiles or loads anything

# No "arcp"/"afn" either: with them a vectorised division became an approximate reciprocal
# (vrcpps) plus a Newton step, whose bits differ between CPU models and from the exact scalar
# division of the loop's tail.
_FAST = {"nnan", "ninf", "nsz"}


def _fma_typer(typingctx: Any, a: Any, b: Any, c: Any) -> Any:
    """a * b + c rounded once: LLVM's fma intrinsic, fused on every target and in every
    compile (unlike fast-math "contract", which leaves fusing to the optimiser's choices)."""
    sig = types.float32(types.float32, types.float32, types.float32)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        f32 = ir.FloatType()
        fnty = ir.FunctionType(f32, [f32, f32, f32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.fma.f32")
        return builder.call(fn, args)

    return sig, codegen


_fma: Any = intrinsic(_fma_typer)  # called as _fma(a, b, c) from jitted code


# error_model="numpy": no zero-division checks, which would stop the loops vectorising; the
# loops index views with the bare loop variable so no negative-index wraparound is emitted.
# The row helpers are not inlined by numba (inline="always"): that typed and optimised each
# again in every caller, a fifth of a cold compile, for the same bits and speed (LLVM still
# inlines them where it pays; benchmarks/RESULTS.md, "Seventh pass").
@numba.njit(fastmath=_FAST, cache=True, nogil=True, error_model="numpy")
def _hfilter(prod: np.ndarray, slot: np.ndarray, g: np.ndarray, wo: int) -> None:
    """slot[j] = sum_t g[t] * prod[j + t], summed left to right."""
    k = g.shape[0]
    if k == 7:
        # The default window in one pass: one load and store of `slot` instead of seven.
        g0, g1, g2, g3, g4, g5, g6 = g[0], g[1], g[2], g[3], g[4], g[5], g[6]
        p1, p2, p3 = prod[1 : 1 + wo], prod[2 : 2 + wo], prod[3 : 3 + wo]
        p4, p5, p6 = prod[4 : 4 + wo], prod[5 : 5 + wo], prod[6 : 6 + wo]
        for j in range(wo):
            s = _fma(g1, p1[j], g0 * prod[j])
            s = _fma(g2, p2[j], s)
            s = _fma(g3, p3[j], s)
            s = _fma(g4, p4[j], s)
            s = _fma(g5, p5[j], s)
            slot[j] = _fma(g6, p6[j], s)
        return
    g0 = g[0]
    for j in range(wo):
        slot[j] = g0 * prod[j]
    for t in range(1, k):
        gt = g[t]
        shifted = prod[t : t + wo]
        for j in range(wo):
            slot[j] = _fma(gt, shifted[j], slot[j])


@numba.njit(fastmath=_FAST, cache=True, nogil=True, error_model="numpy")
def _vfilter(ring: np.ndarray, i: int, acc: np.ndarray, g: np.ndarray, wo: int) -> None:
    """acc[j] = sum_t g[t] * ring[(i + t) % k][j], summed in t order."""
    k = g.shape[0]
    if k == 7:
        g0, g1, g2, g3, g4, g5, g6 = g[0], g[1], g[2], g[3], g[4], g[5], g[6]
        r0, r1, r2 = ring[i % 7], ring[(i + 1) % 7], ring[(i + 2) % 7]
        r3, r4, r5, r6 = ring[(i + 3) % 7], ring[(i + 4) % 7], ring[(i + 5) % 7], ring[(i + 6) % 7]
        for j in range(wo):
            s = _fma(g1, r1[j], g0 * r0[j])
            s = _fma(g2, r2[j], s)
            s = _fma(g3, r3[j], s)
            s = _fma(g4, r4[j], s)
            s = _fma(g5, r5[j], s)
            acc[j] = _fma(g6, r6[j], s)
        return
    first = ring[i % k]
    g0 = g[0]
    for j in range(wo):
        acc[j] = g0 * first[j]
    for t in range(1, k):
        rt = ring[(i + t) % k]
        gt = g[t]
        for j in range(wo):
            acc[j] = _fma(gt, rt[j], acc[j])


@numba.njit(fastmath=_FAST, cache=True, nogil=True, error_model="numpy")
def _prod_row(xa: np.ndarray, xb: np.ndarray, row: int, width: int, prod: np.ndarray) -> None:
    """prod[j] = xa[row, j] * xb[row, j]."""
    ra = xa[row * width : (row + 1) * width]
    rb = xb[row * width : (row + 1) * width]
    for j in range(width):
        prod[j] = ra[j] * rb[j]


@numba.njit(fastmath=_FAST, cache=True, nogil=True, error_model="numpy")
def _cs_row7(
    ring: np.ndarray,
    i: int,
    g: np.ndarray,
    m1: np.ndarray,
    m2: np.ndarray,
    v1: np.ndarray,
    v2: np.ndarray,
    c2f: np.float32,
    cs_col: np.ndarray,
    wo: int,
) -> None:
    """Vertical 7-tap filter, cs formula and column sum for one output row in one pass."""
    two = np.float32(2.0)
    n = ring.shape[0]
    g0, g1, g2, g3, g4, g5, g6 = g[0], g[1], g[2], g[3], g[4], g[5], g[6]
    r0, r1, r2 = ring[i % n], ring[(i + 1) % n], ring[(i + 2) % n]
    r3, r4, r5, r6 = ring[(i + 3) % n], ring[(i + 4) % n], ring[(i + 5) % n], ring[(i + 6) % n]
    for j in range(wo):
        s = _fma(g1, r1[j], g0 * r0[j])
        s = _fma(g2, r2[j], s)
        s = _fma(g3, r3[j], s)
        s = _fma(g4, r4[j], s)
        s = _fma(g5, r5[j], s)
        s = _fma(g6, r6[j], s)
        cs_col[j] += _fma(two, _fma(-m1[j], m2[j], s), c2f) / (v1[j] + v2[j] + c2f)


@numba.njit(fastmath=_FAST, cache=True, nogil=True, error_model="numpy")
def _cs_rows2(
    ring: np.ndarray,
    i: int,
    g: np.ndarray,
    m1: np.ndarray,
    m2: np.ndarray,
    v1: np.ndarray,
    v2: np.ndarray,
    c2f: np.float32,
    cs_col: np.ndarray,
    wo: int,
) -> None:
    """Output rows i and i + 1 in one pass over the 8 ring rows they share (the tail of a
    scale: ring rows are taken modulo the ring's length): each column sum
    still adds row i's term, then row i + 1's (the same order and bits as one row at a time),
    with one load and store of the sums and of six ring rows where two passes had two.
    m1..v2 hold the statistics of rows i and i + 1 back to back."""
    two = np.float32(2.0)
    n = ring.shape[0]
    g0, g1, g2, g3, g4, g5, g6 = g[0], g[1], g[2], g[3], g[4], g[5], g[6]
    r0, r1, r2, r3 = ring[i % n], ring[(i + 1) % n], ring[(i + 2) % n], ring[(i + 3) % n]
    r4, r5, r6, r7 = ring[(i + 4) % n], ring[(i + 5) % n], ring[(i + 6) % n], ring[(i + 7) % n]
    m1b, m2b, v1b, v2b = m1[wo : 2 * wo], m2[wo : 2 * wo], v1[wo : 2 * wo], v2[wo : 2 * wo]
    for j in range(wo):
        a1, a2, a3, a4, a5, a6 = r1[j], r2[j], r3[j], r4[j], r5[j], r6[j]
        s = _fma(g1, a1, g0 * r0[j])
        s = _fma(g2, a2, s)
        s = _fma(g3, a3, s)
        s = _fma(g4, a4, s)
        s = _fma(g5, a5, s)
        s = _fma(g6, a6, s)
        t = _fma(g1, a2, g0 * a1)
        t = _fma(g2, a3, t)
        t = _fma(g3, a4, t)
        t = _fma(g4, a5, t)
        t = _fma(g5, a6, t)
        t = _fma(g6, r7[j], t)
        c = cs_col[j] + _fma(two, _fma(-m1[j], m2[j], s), c2f) / (v1[j] + v2[j] + c2f)
        cs_col[j] = c + _fma(two, _fma(-m1b[j], m2b[j], t), c2f) / (v1b[j] + v2b[j] + c2f)


@numba.njit(fastmath=_FAST, cache=True, nogil=True, error_model="numpy")
def _cs_rows4(
    ring: np.ndarray,
    i: int,
    g: np.ndarray,
    m1: np.ndarray,
    m2: np.ndarray,
    v1: np.ndarray,
    v2: np.ndarray,
    c2f: np.float32,
    cs_col: np.ndarray,
    wo: int,
) -> None:
    """Output rows i to i + 3 in one pass over the 10 ring rows they share (_cs_rows2 twice,
    with one load and store of the sums, and 10 ring rows read where two passes read 16).
    Each column sum still adds row i's term, then i + 1's, i + 2's and i + 3's, rounded to
    float32 after each, so the bits are _cs_rows2's. m1..v2 hold rows i to i + 3."""
    two = np.float32(2.0)
    g0, g1, g2, g3, g4, g5, g6 = g[0], g[1], g[2], g[3], g[4], g[5], g[6]
    r0, r1, r2, r3 = ring[i % 10], ring[(i + 1) % 10], ring[(i + 2) % 10], ring[(i + 3) % 10]
    r4, r5, r6 = ring[(i + 4) % 10], ring[(i + 5) % 10], ring[(i + 6) % 10]
    r7, r8, r9 = ring[(i + 7) % 10], ring[(i + 8) % 10], ring[(i + 9) % 10]
    m1b, m2b, v1b, v2b = m1[wo : 2 * wo], m2[wo : 2 * wo], v1[wo : 2 * wo], v2[wo : 2 * wo]
    m1c, m2c = m1[2 * wo : 3 * wo], m2[2 * wo : 3 * wo]
    v1c, v2c = v1[2 * wo : 3 * wo], v2[2 * wo : 3 * wo]
    m1d, m2d = m1[3 * wo : 4 * wo], m2[3 * wo : 4 * wo]
    v1d, v2d = v1[3 * wo : 4 * wo], v2[3 * wo : 4 * wo]
    for j in range(wo):
        a1, a2, a3, a4, a5, a6 = r1[j], r2[j], r3[j], r4[j], r5[j], r6[j]
        a7, a8 = r7[j], r8[j]
        s = _fma(g1, a1, g0 * r0[j])
        s = _fma(g2, a2, s)
        s = _fma(g3, a3, s)
        s = _fma(g4, a4, s)
        s = _fma(g5, a5, s)
        s = _fma(g6, a6, s)
        c = cs_col[j] + _fma(two, _fma(-m1[j], m2[j], s), c2f) / (v1[j] + v2[j] + c2f)
        s = _fma(g1, a2, g0 * a1)
        s = _fma(g2, a3, s)
        s = _fma(g3, a4, s)
        s = _fma(g4, a5, s)
        s = _fma(g5, a6, s)
        s = _fma(g6, a7, s)
        c = c + _fma(two, _fma(-m1b[j], m2b[j], s), c2f) / (v1b[j] + v2b[j] + c2f)
        s = _fma(g1, a3, g0 * a2)
        s = _fma(g2, a4, s)
        s = _fma(g3, a5, s)
        s = _fma(g4, a6, s)
        s = _fma(g5, a7, s)
        s = _fma(g6, a8, s)
        c = c + _fma(two, _fma(-m1c[j], m2c[j], s), c2f) / (v1c[j] + v2c[j] + c2f)
        s = _fma(g1, a4, g0 * a3)
        s = _fma(g2, a5, s)
        s = _fma(g3, a6, s)
        s = _fma(g4, a7, s)
        s = _fma(g5, a8, s)
        s = _fma(g6, r9[j], s)
        cs_col[j] = c + _fma(two, _fma(-m1d[j], m2d[j], s), c2f) / (v1d[j] + v2d[j] + c2f)


@numba.njit(fastmath=_FAST, cache=True, nogil=True, error_model="numpy")
def _cs_means7(
    xa: np.ndarray,
    mua: np.ndarray,
    s2a: np.ndarray,
    xb: np.ndarray,
    mub: np.ndarray,
    s2b: np.ndarray,
    as_: np.ndarray,
    bs: np.ndarray,
    x0: int,
    m0: int,
    height: int,
    width: int,
    g: np.ndarray,
    c2: float,
    out: np.ndarray,
) -> None:
    """out[q] = mean cs term of (image as_[q] of set a, image bs[q] of set b) at one scale,
    7-tap window.

    Per pair, a ring of 10 horizontally filtered rows and four output rows per vertical pass
    (then two and one for the scale's last rows). The group's pairs advance together, four
    rows at a time. A group is a block of A first images x B second images (msssim_tile) or
    a run of pairs sharing their first image (pair_groups), listed first image by first
    image, so each image's rows and statistics come from memory once per group per step and
    from cache for its other pairs (~1.9 MB per image at the first scale). Each pair's
    arithmetic is unchanged, so the grouping changes no bit. Whole rows, not column blocks:
    blocks of 256-512 columns broke the prefetcher's streams and ran 1.5-2x slower."""
    wo = width - 6
    ho = height - 6
    npx = height * width
    nm = ho * wo
    group = bs.shape[0]
    ring = np.empty((group, 10, wo), np.float32)
    prod = np.empty(width, np.float32)
    cs_col = np.zeros((group, wo), np.float32)
    c2f = np.float32(c2)
    for q in range(group):
        xp = xa[as_[q], x0 : x0 + npx]
        xq = xb[bs[q], x0 : x0 + npx]
        for row in range(6):
            _prod_row(xp, xq, row, width, prod)
            _hfilter(prod, ring[q, row], g, wo)
    for i in range(0, ho, 4):
        rows = min(4, ho - i)
        lo = m0 + i * wo
        hi = lo + rows * wo
        for q in range(group):
            a, b = as_[q], bs[q]
            xp = xa[a, x0 : x0 + npx]
            xq = xb[b, x0 : x0 + npx]
            rq = ring[q]
            m1, v1 = mua[a, lo:hi], s2a[a, lo:hi]
            m2, v2 = mub[b, lo:hi], s2b[b, lo:hi]
            for row in range(i + 6, i + 6 + rows):
                _prod_row(xp, xq, row, width, prod)
                _hfilter(prod, rq[row % 10], g, wo)
            if rows == 4:
                _cs_rows4(rq, i, g, m1, m2, v1, v2, c2f, cs_col[q], wo)
                continue
            if rows >= 2:
                _cs_rows2(rq, i, g, m1, m2, v1, v2, c2f, cs_col[q], wo)
            if rows != 2:  # 1 or 3: the last row alone
                k = (rows - 1) * wo
                m1, m2, v1, v2 = m1[k:], m2[k:], v1[k:], v2[k:]
                _cs_row7(rq, i + rows - 1, g, m1, m2, v1, v2, c2f, cs_col[q], wo)
    for q in range(group):
        cs_sum = np.float64(0.0)
        for j in range(wo):
            cs_sum += np.float64(cs_col[q, j])
        out[q] = cs_sum / nm


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
    # Per-column running sums over rows: element-wise, so they vectorise without reordering
    # any addition (a per-row scalar sum would not vectorise, and left the formula scalar).
    cs_col = np.zeros(wo, np.float32)
    ssim_col = np.zeros(wo, np.float32)
    lum = np.empty(wo, np.float32)
    c1f = np.float32(c1)
    c2f = np.float32(c2)
    two = np.float32(2.0)  # a Python 2 would promote the formula to float64
    for row in range(height):
        ra = xa[row * width : (row + 1) * width]
        rb = xb[row * width : (row + 1) * width]
        for j in range(width):
            prod[j] = ra[j] * rb[j]
        _hfilter(prod, ring[row % k], g, wo)
        if row < k - 1:
            continue
        i = row - (k - 1)
        lo, hi = i * wo, (i + 1) * wo
        m1, m2, v1, v2 = mua[lo:hi], mub[lo:hi], s2a[lo:hi], s2b[lo:hi]
        _vfilter(ring, i, acc, g, wo)
        # The formula overwrites acc (one store stream besides the loads, so LLVM's alias
        # checks stay within its limit and the loop vectorises), then the column sums add it.
        if want_ssim:
            for j in range(wo):
                m12 = m1[j] * m2[j]
                cs = _fma(two, _fma(-m1[j], m2[j], acc[j]), c2f) / (v1[j] + v2[j] + c2f)
                acc[j] = cs
                lum[j] = (two * m12 + c1f) / (m1[j] * m1[j] + m2[j] * m2[j] + c1f) * cs
            for j in range(wo):
                ssim_col[j] += lum[j]
        else:
            for j in range(wo):
                acc[j] = _fma(two, _fma(-m1[j], m2[j], acc[j]), c2f) / (v1[j] + v2[j] + c2f)
        for j in range(wo):
            cs_col[j] += acc[j]
    cs_sum = np.float64(0.0)
    ssim_sum = np.float64(0.0)
    for j in range(wo):
        cs_sum += np.float64(cs_col[j])
        ssim_sum += np.float64(ssim_col[j])
    n = ho * wo
    return float(cs_sum / n), float(ssim_sum / n)


@numba.njit(cache=True, nogil=True)
def msssim_groups(
    t0: int,
    t1: int,
    ia: np.ndarray,
    ib: np.ndarray,
    starts: np.ndarray,
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
    """out[p] = 1 - MS-SSIM(image ia[p] of set a, image ib[p] of set b) for the pairs of
    groups t0..t1 - 1. Pairs starts[t]..starts[t + 1] form group t, which advances through
    each scale together."""
    scales = weights.shape[0]
    for t in range(t0, t1):
        p0, p1 = starts[t], starts[t + 1]
        terms = np.empty((scales, p1 - p0))
        for s in range(scales):
            x0, x1 = x_off[s], x_off[s + 1]
            m0, m1 = m_off[s], m_off[s + 1]
            last = s == scales - 1
            if g.shape[0] == 7 and not last:
                _cs_means7(
                    xa, mua, s2a, xb, mub, s2b, ia[p0:p1], ib[p0:p1],
                    x0, m0, heights[s], widths[s], g, c2, terms[s],
                )  # fmt: skip
                continue
            for q in range(p1 - p0):
                a, b = ia[p0 + q], ib[p0 + q]
                cs, ssim = _scale_terms(
                    xa[a, x0:x1], xb[b, x0:x1], mua[a, m0:m1], mub[b, m0:m1],
                    s2a[a, m0:m1], s2b[b, m0:m1], heights[s], widths[s], g, c1, c2, last,
                )  # fmt: skip
                terms[s, q] = ssim if last else cs
        for q in range(p1 - p0):
            value = 1.0
            for s in range(scales):
                # relu of each term before the weighted product, as pytorch_msssim does
                value *= max(terms[s, q], 0.0) ** weights[s]
            out[p0 + q] = 1.0 - value
