"""Per-image preparation for pairwise matrices on CPU, one image at a time in cache (numba).

torch's CPU convolutions on single-channel 128 x 1290 images run at 15-60 ms per image here
(memory bound); these loops do the same arithmetic, in float64, at a few ms. The torch
versions in nlpd.py and msssim.py stay the reference; tests hold the two equal."""

from __future__ import annotations

import numba
import numpy as np

from percmusic_cli.metrics._simd import allow_wide_vectors
from percmusic_cli.metrics._spans import in_spans

allow_wide_vectors()  # before numba compiles or loads anything

_W5 = np.array([0.05, 0.25, 0.4, 0.25, 0.05])


@numba.njit(cache=True, inline="always")
def _sym(i: int, n: int) -> int:
    """Matlab 'symmetric' index (edge included) for a padding of up to n."""
    if i < 0:
        return -i - 1
    if i >= n:
        return 2 * n - i - 1
    return i


@numba.njit(cache=True)
def _reduce(j: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Symmetric pad by 2, 5x5 separable low-pass, stride 2."""
    h, wd = j.shape
    ho, wo = (h - 1) // 2 + 1, (wd - 1) // 2 + 1
    tmp = np.zeros((h, wo))
    for r in range(h):
        for b in range(wo):
            acc = 0.0
            for v in range(5):
                acc += w[v] * j[r, _sym(2 * b + v - 2, wd)]
            tmp[r, b] = acc
    out = np.zeros((ho, wo))
    for a in range(ho):
        for u in range(5):
            row = _sym(2 * a + u - 2, h)
            for b in range(wo):
                out[a, b] += w[u] * tmp[row, b]
    return out


@numba.njit(cache=True)
def _expand(low: np.ndarray, w: np.ndarray, h: int, wd: int) -> np.ndarray:
    """Replicate-pad by 1, zero-interleave x4, 5x5 low-pass, drop 2 rows/cols, keep (h, wd)."""
    lh, lw = low.shape
    ph = lh + 2
    tmp = np.zeros((ph, wd))
    for m in range(ph):
        src = low[min(max(m - 1, 0), lh - 1)]
        for x in range(wd):
            acc = 0.0
            for v in range((x % 2), 5, 2):  # only even x + v hit a non-zero sample
                acc += w[v] * src[min(max((x + v) // 2 - 1, 0), lw - 1)]
            tmp[m, x] = acc
    out = np.zeros((h, wd))
    for y in range(h):
        for u in range((y % 2), 5, 2):
            row = tmp[(y + u) // 2]
            for x in range(wd):
                out[y, x] += 4.0 * w[u] * row[x]
    return out


@numba.njit(cache=True)
def _normalise(z: np.ndarray, p: np.ndarray, sigma: float, dst: np.ndarray) -> None:
    """dst = z / (sigma + conv2(|z|, P, 'same')), flattened; conv2 is a true convolution."""
    h, wd = z.shape
    for y in range(h):
        for x in range(wd):
            acc = 0.0
            for a in range(3):
                yy = y + 1 - a
                if yy < 0 or yy >= h:
                    continue
                for b in range(3):
                    xx = x + 1 - b
                    if 0 <= xx < wd and p[a, b] != 0.0:
                        acc += p[a, b] * abs(z[yy, xx])
            dst[y * wd + x] = z[y, x] / (sigma + acc)


@numba.njit(cache=True, nogil=True)
def _one_pyramid(
    image: np.ndarray, p: np.ndarray, sigmas: np.ndarray, offsets: np.ndarray, dst: np.ndarray
) -> None:
    levels = sigmas.shape[0]
    w = _W5.copy()
    j = image.astype(np.float64)
    for lev in range(levels - 1):
        low = _reduce(j, w)
        band = j - _expand(low, w, j.shape[0], j.shape[1])
        _normalise(band, p[lev], sigmas[lev], dst[offsets[lev] : offsets[lev + 1]])
        j = low
    last = levels - 1
    _normalise(j, p[last], sigmas[last], dst[offsets[last] : offsets[last + 1]])


def nlpd_bands(
    images: np.ndarray, p: np.ndarray, sigmas: np.ndarray, offsets: np.ndarray, out: np.ndarray
) -> None:
    """out[i, offsets[l]:offsets[l+1]] = normalised band l of images[i] (float64); images
    side by side on numba's threads (_spans.py)."""

    def work(start: int, stop: int) -> None:
        for i in range(start, stop):
            _one_pyramid(images[i], p, sigmas, offsets, out[i])

    in_spans(work, images.shape[0])


@numba.njit(cache=True)
def _pool(x: np.ndarray) -> np.ndarray:
    """2x2 mean; odd sides padded by one zero on each side, zeros counted (avg_pool2d)."""
    h, wd = x.shape
    ph, pw = h % 2, wd % 2
    ho, wo = (h + 2 * ph - 2) // 2 + 1, (wd + 2 * pw - 2) // 2 + 1
    out = np.zeros((ho, wo))
    for a in range(ho):
        for b in range(wo):
            acc = 0.0
            for da in range(2):
                r = 2 * a + da - ph
                for db in range(2):
                    c = 2 * b + db - pw
                    if 0 <= r < h and 0 <= c < wd:
                        acc += x[r, c]
            out[a, b] = acc / 4.0
    return out


@numba.njit(cache=True)
def _blur(x: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Valid separable Gaussian filter, rows first (as pytorch_msssim)."""
    k = g.shape[0]
    h, wd = x.shape
    tmp = np.zeros((h - k + 1, wd))
    for i in range(h - k + 1):
        for u in range(k):
            for c in range(wd):
                tmp[i, c] += g[u] * x[i + u, c]
    out = np.zeros((h - k + 1, wd - k + 1))
    for i in range(h - k + 1):
        for c in range(wd - k + 1):
            acc = 0.0
            for v in range(k):
                acc += g[v] * tmp[i, c + v]
            out[i, c] = acc
    return out


@numba.njit(cache=True, nogil=True)
def _put(dst: np.ndarray, start: int, stop: int, src: np.ndarray) -> None:
    """dst[start:stop] = src, row by row, cast to float32. A loop, not a slice assignment:
    numba compiles a slice assignment's shape-mismatch message (string formatting), about 3 s
    of a cold compile (benchmarks/RESULTS.md, "Seventh pass"). The check stays, with a fixed
    message."""
    h, wd = src.shape
    if stop - start != h * wd or stop > dst.shape[0]:
        raise ValueError("msssim_stats: a scale's size does not match its offsets")
    for i in range(h):
        for c in range(wd):
            dst[start + i * wd + c] = np.float32(src[i, c])


@numba.njit(cache=True, nogil=True)
def _one_stats(
    image: np.ndarray,
    g: np.ndarray,
    scales: int,
    x_off: np.ndarray,
    m_off: np.ndarray,
    xs: np.ndarray,
    mus: np.ndarray,
    vs: np.ndarray,
) -> None:
    x = image.astype(np.float64)
    for s in range(scales):
        if s > 0:
            x = _pool(x)
        mu = _blur(x, g)
        var = _blur(x * x, g) - mu * mu
        _put(xs, x_off[s], x_off[s + 1], x)
        _put(mus, m_off[s], m_off[s + 1], mu)
        _put(vs, m_off[s], m_off[s + 1], var)


def msssim_stats(
    images: np.ndarray,
    g: np.ndarray,
    scales: int,
    x_off: np.ndarray,
    m_off: np.ndarray,
    xs: np.ndarray,
    mus: np.ndarray,
    vs: np.ndarray,
) -> None:
    """Per image and scale: pooled image, local mean, local variance (float64 math, stored in
    the float32 rows of xs, mus, vs at the per-scale offsets); images side by side on
    numba's threads (_spans.py)."""

    def work(start: int, stop: int) -> None:
        for i in range(start, stop):
            _one_stats(images[i], g, scales, x_off, m_off, xs[i], mus[i], vs[i])

    in_spans(work, images.shape[0])
