"""Pooled within- and between-genre distances, the AUC and the ratio of means."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from percmusic_cli.experiments.separation import auc, densities, pooled_pairs, separation


def test_pooled_pairs_split_the_upper_triangle_by_label() -> None:
    d = np.array([[0, 1, 5, 6], [1, 0, 7, 8], [5, 7, 0, 2], [6, 8, 2, 0]], dtype=float)
    within, between = pooled_pairs(d, ["a", "a", "b", "b"])
    assert sorted(within) == [1, 2] and sorted(between) == [5, 6, 7, 8]
    sep = separation(within, between)
    assert sep.ratio == pytest.approx(6.5 / 1.5) and sep.auc == 1.0
    assert (sep.n_within, sep.n_between) == (2, 4)


def test_auc_matches_sklearn_with_ties() -> None:
    rng = np.random.default_rng(0)
    within = np.round(rng.normal(1.0, 1.0, 300), 1)  # rounding makes many ties
    between = np.round(rng.normal(1.5, 1.0, 500), 1)
    expected = roc_auc_score([0] * 300 + [1] * 500, np.concatenate([within, between]))
    assert auc(within, between) == pytest.approx(expected, abs=1e-12)
    assert auc(between, within) == pytest.approx(1 - expected, abs=1e-12)
    assert np.isnan(auc(within[:0], between))


def test_densities_share_one_grid() -> None:
    grid, dens = densities({"within": np.array([0.0, 1.0, 1.0]), "between": np.array([2.0, 3.0])})
    assert grid[0] == 0.0 and grid[-1] == 3.0 and len(grid) == 64
    assert set(dens) == {"within", "between"} and all(len(v) == 64 for v in dens.values())
