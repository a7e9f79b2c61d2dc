"""Squared Euclidean distance of two float64 vectors in one pass, single-threaded: used for
the few pairs that the product form cannot resolve (near-identical images). numpy's `d @ d`
and small torch ops wake a BLAS or OpenMP pool and cost ~100x more on a busy machine."""

from __future__ import annotations

import numba
import numpy as np

from percmusic_cli.metrics._simd import allow_wide_vectors

allow_wide_vectors()  # before numba compiles or loads anything

_FAST = {"nnan", "ninf", "nsz", "arcp", "afn"}


# Fast-math without reassociation or contraction: with them the sums' order (and fused
# multiply-adds) depended on how LLVM inlined this function, so a freshly compiled copy and
# the cached one gave different last bits, and a resumed matrix differed from its first run.
@numba.njit(fastmath=_FAST, cache=True, nogil=True)
def sq_dist(a: np.ndarray, b: np.ndarray) -> float:
    acc = 0.0
    for k in range(a.shape[0]):
        d = a[k] - b[k]
        acc += d * d
    return acc
