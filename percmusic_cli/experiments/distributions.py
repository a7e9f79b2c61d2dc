"""Distributions of pairwise distances within each genre and over all songs (the study's
Fig. 1): quantiles and a smoothed density per group (groups from stats.distance_groups)."""

from __future__ import annotations

from typing import Any

import numpy as np

from percmusic_cli.experiments.stats import distance_summary

DENSITY_POINTS = 64


def density(values: np.ndarray, lo: float, hi: float, points: int = DENSITY_POINTS) -> list[float]:
    """Gaussian-kernel density on a regular grid (Scott's bandwidth), no SciPy needed."""
    if values.size < 2 or hi <= lo:
        return [0.0] * points
    grid = np.linspace(lo, hi, points)
    std = float(values.std())
    bandwidth = max(std * values.size ** (-1 / 5), (hi - lo) / (4 * points))
    # Bin first so the cost does not grow with the number of pairs (N^2 / 2).
    hist, edges = np.histogram(values, bins=512, range=(lo, hi))
    centres = (edges[:-1] + edges[1:]) / 2
    z = (grid[:, None] - centres[None, :]) / bandwidth
    dens = (np.exp(-0.5 * z**2) * hist[None, :]).sum(axis=1)
    dens /= values.size * bandwidth * np.sqrt(2 * np.pi)
    return [float(v) for v in dens]


def summarise(grouped: dict[str, np.ndarray]) -> list[dict[str, Any]]:
    """Per group: n, mean, std, quantiles (stats.distance_summary) and a density on the
    grid shared by all groups, so the dashboard can draw violins without the matrix."""
    nonempty = [v for v in grouped.values() if v.size]
    lo = float(min(v.min() for v in nonempty)) if nonempty else 0.0
    hi = float(max(v.max() for v in nonempty)) if nonempty else 1.0
    rows: list[dict[str, Any]] = [dict(r) for r in distance_summary(grouped)]
    for row in rows:
        values = grouped[str(row["group"])]
        row["density"] = {"lo": lo, "hi": hi, "values": density(values, lo, hi)}
    return rows
