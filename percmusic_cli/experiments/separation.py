"""How well a distance separates genres: every pair of songs pooled into within-genre and
between-genre pairs, their densities on one grid, the ratio of mean distances and the AUC
(the probability that a between-genre pair is farther apart than a within-genre pair)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from percmusic_cli.experiments.distributions import density, summarise


@dataclass(frozen=True)
class Separation:
    n_within: int
    n_between: int
    mean_within: float
    mean_between: float
    ratio: float  # mean between / mean within: above 1 when genres sit apart
    auc: float  # 0.5: no separation, 1: every between pair farther than every within pair


def pooled_pairs(d: np.ndarray, labels: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Distances of the pairs i < j with the same label, and of those with different ones."""
    d = np.asarray(d, dtype=np.float64)
    lab = np.asarray(labels)
    if d.shape != (len(lab), len(lab)):
        raise ValueError(f"distance matrix {d.shape} does not match {len(lab)} labels")
    i, j = np.triu_indices(len(lab), k=1)
    same = lab[i] == lab[j]
    values = d[i, j]
    return values[same], values[~same]


def auc(within: np.ndarray, between: np.ndarray) -> float:
    """Mann-Whitney AUC of "between > within", ties counted half; nan if a group is empty."""
    if within.size == 0 or between.size == 0:
        return float("nan")
    values = np.concatenate([within, between])
    order = np.argsort(values, kind="mergesort")
    ranks = np.empty(values.size, dtype=np.float64)
    ranks[order] = np.arange(1, values.size + 1)
    # Average the ranks of tied values so ties count half.
    uniq, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    if uniq.size < values.size:
        sums = np.bincount(inverse, weights=ranks)
        ranks = (sums / counts)[inverse]
    u = ranks[within.size :].sum() - between.size * (between.size + 1) / 2
    return float(u / (within.size * between.size))


def separation(within: np.ndarray, between: np.ndarray) -> Separation:
    mw = float(within.mean()) if within.size else float("nan")
    mb = float(between.mean()) if between.size else float("nan")
    return Separation(
        int(within.size),
        int(between.size),
        mw,
        mb,
        mb / mw if mw > 0 else float("nan"),
        auc(within, between),
    )


def densities(
    groups: dict[str, np.ndarray], points: int = 64
) -> tuple[np.ndarray, dict[str, list[float]]]:
    """Each group's density on one grid spanning every group's values (violins that share
    an axis), and the grid itself."""
    nonempty = [v for v in groups.values() if v.size]
    lo = float(min(v.min() for v in nonempty)) if nonempty else 0.0
    hi = float(max(v.max() for v in nonempty)) if nonempty else 1.0
    grid = np.linspace(lo, hi, points)
    return grid, {name: density(v, lo, hi, points) for name, v in groups.items()}


def pooled_stats(d: np.ndarray, labels: Sequence[str]) -> list[dict[str, object]]:
    """Stored Fig. 1 rows for the pooled comparison: "pooled within" and "pooled between"
    (quantiles and density, as `distributions.summarise` gives), each marked `pooled` and
    carrying the separation's ratio of means and AUC, so readers never need the matrix."""
    within, between = pooled_pairs(d, labels)
    sep = separation(within, between)
    rows = summarise({"pooled within": within, "pooled between": between})
    return [{**r, "pooled": True, "ratio": sep.ratio, "auc": sep.auc} for r in rows]
