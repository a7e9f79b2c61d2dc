"""Hubness of a distance: how unevenly tracks appear in each other's neighbour lists, and
two standard ways to reduce it (pure: arrays in, arrays out).

k-occurrence N_k(x): how many other tracks have x among their k nearest neighbours. Its
skewness (Radovanovic, Nanopoulos and Ivanovic 2010, JMLR 11) is the usual hubness score:
near 0 when neighbour slots are spread evenly, large and positive when a few "hubs" fill
many of them (a known failure of KNN in music similarity).

Reductions (Schnitzer, Flexer, Schedl and Widmer 2012, JMLR 13), rescaling each distance
d(x, y) with the distances of x and of y to a reference set (the training tracks; a track's
distance to itself is left out):
- "ls": local scaling, 1 - exp(-d^2 / (sigma_x sigma_y)), sigma = distance to the k-th
  nearest reference track;
- "mp": mutual proximity, empirical: 1 - P(D_x > d) P(D_y > d), P the fraction of x's
  (y's) reference distances greater than d;
- "mp-gauss": mutual proximity with each track's reference distances modelled as a
  normal distribution (mean, sd).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.special import ndtr

HUBNESS_METHODS = ("none", "mp", "mp-gauss", "ls")
HUBNESS_K = 5  # Radovanovic et al. report N_5 and N_10; 5 suits small test sets
LS_K = 10  # Schnitzer et al.'s local-scaling neighbourhood


def k_occurrence(d: np.ndarray, k: int = HUBNESS_K, square: bool = True) -> np.ndarray:
    """N_k of every column track: how many row tracks have it among their k nearest
    (ties by index). square: rows and columns are the same tracks, self excluded."""
    d = np.array(d, dtype=np.float64)
    n = d.shape[1]
    k = min(k, n - 1 if square else n)
    if k < 1:
        return np.zeros(n, dtype=np.int64)
    if square:
        np.fill_diagonal(d, np.inf)
    nearest = np.argsort(d, axis=1, kind="stable")[:, :k]
    return np.bincount(nearest.ravel(), minlength=n)


def skewness(x: np.ndarray) -> float:
    """Sample skewness m3 / m2^1.5 (0 for a constant)."""
    x = np.asarray(x, dtype=np.float64)
    c = x - x.mean()
    m2 = float(np.mean(c**2))
    return float(np.mean(c**3) / m2**1.5) if m2 > 0 else 0.0


def hubness_report(
    d: np.ndarray, names: Sequence[str], k: int = HUBNESS_K, top: int = 3, square: bool = True
) -> dict[str, Any]:
    """Skewness of N_k, the tracks that are nobody's neighbour, and the top hubs with
    their share of the rows * k neighbour slots (names: the column tracks)."""
    counts = k_occurrence(d, k, square)
    n = len(counts)
    k_used = min(k, n - 1 if square else n)
    slots = max(int(np.shape(d)[0]) * k_used, 1)
    order = np.argsort(-counts, kind="stable")[:top]
    return {
        "k": k_used,
        "tracks": n,
        "skewness": skewness(counts),
        "orphans": int(np.count_nonzero(counts == 0)),
        "top_hubs": [
            {"track": str(names[i]), "count": int(counts[i]), "share": float(counts[i] / slots)}
            for i in order
        ],
    }


def _masked(ref: np.ndarray) -> np.ndarray:
    return np.sort(np.asarray(ref, dtype=np.float64), axis=1)  # NaN (self) sorts last


def _survival(sorted_ref: np.ndarray, d: np.ndarray, axis: int) -> np.ndarray:
    """P(D > d): per row (axis 0: rows of d) or column (axis 1) track, the fraction of its
    reference distances greater than d."""
    out = np.empty_like(d)
    valid = np.count_nonzero(~np.isnan(sorted_ref), axis=1)
    for i in range(sorted_ref.shape[0]):
        row = sorted_ref[i, : valid[i]]
        vals = d[i] if axis == 0 else d[:, i]
        frac = (valid[i] - np.searchsorted(row, vals, side="right")) / max(valid[i], 1)
        if axis == 0:
            out[i] = frac
        else:
            out[:, i] = frac
    return out


def reduce_hubness(
    method: str, d: np.ndarray, row_ref: np.ndarray, col_ref: np.ndarray, k: int = LS_K
) -> np.ndarray:
    """d (a, b) rescaled by `method`; row_ref (a, R) and col_ref (b, R) are each track's
    distances to the reference tracks, NaN where a track meets itself."""
    if method not in HUBNESS_METHODS:
        raise ValueError(f"hubness {method!r}: choose one of {', '.join(HUBNESS_METHODS)}")
    d = np.asarray(d, dtype=np.float64)
    if method == "none":
        return d
    if method == "ls":
        sr, sc = _masked(row_ref), _masked(col_ref)
        kr = min(k, sr.shape[1]) - 1
        sigma_r, sigma_c = sr[:, kr], sc[:, kr]
        scale = np.maximum(np.outer(sigma_r, sigma_c), np.finfo(np.float64).tiny)
        return 1.0 - np.exp(-(d**2) / scale)
    if method == "mp":
        return 1.0 - _survival(_masked(row_ref), d, 0) * _survival(_masked(col_ref), d, 1)
    mu_r, sd_r = np.nanmean(row_ref, axis=1), np.nanstd(row_ref, axis=1)
    mu_c, sd_c = np.nanmean(col_ref, axis=1), np.nanstd(col_ref, axis=1)
    tiny = np.finfo(np.float64).tiny
    sf_r = 1.0 - ndtr((d - mu_r[:, None]) / np.maximum(sd_r[:, None], tiny))
    sf_c = 1.0 - ndtr((d - mu_c[None, :]) / np.maximum(sd_c[None, :], tiny))
    return 1.0 - sf_r * sf_c
