"""Hubness (k-occurrence skewness, top hubs), its reductions, the corrected resampled
t-test and the chance level: checked against direct computations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from percmusic_cli.experiments.hubness import hubness_report, k_occurrence, reduce_hubness
from percmusic_cli.experiments.stats import chance_f1, corrected_resampled_t


def _hubbed(n: int = 30, seed: int = 0) -> np.ndarray:
    """Random symmetric distances in [2, 3], and one track at distance 1 from all: a hub."""
    u = np.random.default_rng(seed).uniform(2, 3, size=(n, n))
    d = np.triu(u, 1) + np.triu(u, 1).T
    d[0, 1:] = d[1:, 0] = 1.0
    return d


def test_k_occurrence_counts_neighbour_slots() -> None:
    d = _hubbed()
    counts = k_occurrence(d, 1)
    assert counts.sum() == 30 and counts[0] == 29  # the centre is every other's nearest
    report = hubness_report(d, [f"t{i}" for i in range(30)], k=1)
    assert report["top_hubs"][0] == {"track": "t0", "count": 29, "share": pytest.approx(29 / 30)}
    assert report["orphans"] == 28  # t0's own nearest is the one other non-orphan
    assert report["skewness"] == pytest.approx(float(sps.skew(counts)))
    rect = k_occurrence(d[5:, :5], 2, square=False)
    assert rect.sum() == 25 * 2


def test_reductions_flatten_high_dimensional_hubs() -> None:
    """60 Gaussian points in 50 dimensions: Euclidean KNN has hubs (skew 2.7, the effect
    Radovanovic et al. describe); each reduction brings the skewness below 1."""
    x = np.random.default_rng(0).normal(size=(60, 50))
    d = np.sqrt(((x[:, None] - x[None]) ** 2).sum(-1))
    ref = d.copy()
    np.fill_diagonal(ref, np.nan)
    names = list(map(str, range(60)))
    assert hubness_report(d, names)["skewness"] > 2.5
    for method in ("mp", "mp-gauss", "ls"):
        r = reduce_hubness(method, d, ref, ref)
        np.testing.assert_allclose(r, r.T, atol=1e-12)  # symmetric rescaling
        assert hubness_report(r, names)["skewness"] < 1.0, method
    # empirical MP by hand for one pair
    i, j = 3, 7
    pi = np.mean(np.delete(d[i], i) > d[i, j])
    pj = np.mean(np.delete(d[j], j) > d[i, j])
    assert reduce_hubness("mp", d, ref, ref)[i, j] == pytest.approx(1 - pi * pj)
    with pytest.raises(ValueError, match="choose one of"):
        reduce_hubness("bogus", d, ref, ref)


def test_corrected_resampled_t_matches_the_formula() -> None:
    diffs = np.array([[0.1, 0.05, 0.12], [0.02, 0.08, 0.04]])
    j, ratio = 6, 0.25
    t = diffs.mean() / math.sqrt((1 / j + ratio) * diffs.var(ddof=1))
    assert corrected_resampled_t(diffs, ratio) == pytest.approx(2 * sps.t.sf(t, j - 1))
    # the correction only widens: the plain one-sample t p is smaller
    assert corrected_resampled_t(diffs, ratio) > sps.ttest_1samp(diffs.ravel(), 0).pvalue
    assert math.isnan(corrected_resampled_t(np.array([0.1]), ratio))
    assert corrected_resampled_t(np.zeros(4), ratio) == 1.0


def test_chance_is_the_expected_weighted_f1_of_a_stratified_guess() -> None:
    assert chance_f1(np.repeat(np.arange(10), 2), 10) == pytest.approx(0.1)
    codes = np.array([0] * 6 + [1] * 3 + [2])
    assert chance_f1(codes, 3) == pytest.approx(0.6**2 + 0.3**2 + 0.1**2)
    # a large simulation of the guess lands near the expectation
    rng = np.random.default_rng(0)
    from sklearn.metrics import f1_score

    from percmusic_cli.experiments.stats import weighted_f1_codes

    guesses = rng.choice(3, size=(4000, 10), p=[0.6, 0.3, 0.1])
    sims = weighted_f1_codes(codes, guesses, 3)  # vectorised: 4000 sklearn calls took 12 s
    for g, f in zip(guesses[:20], sims[:20], strict=True):  # ... and equal to sklearn's
        assert f == pytest.approx(f1_score(codes, g, average="weighted", zero_division=0))
    assert abs(np.mean(sims) - chance_f1(codes, 3)) < 0.05


def test_reduced_blocks_use_train_as_the_reference_without_self() -> None:
    from percmusic_cli.steps.knn import ReducedBlocks

    x = np.random.default_rng(1).normal(size=(12, 30))
    d = np.sqrt(((x[:, None] - x[None]) ** 2).sum(-1))
    parts = {"train": np.arange(8), "test": np.arange(8, 12)}

    def get(rows: str, cols: str) -> np.ndarray:
        return d[np.ix_(parts[rows], parts[cols])]

    got = ReducedBlocks(get, "mp").get("test", "train")
    ref_train = d[:8, :8].copy()
    np.fill_diagonal(ref_train, np.nan)
    want = reduce_hubness("mp", d[8:, :8], d[8:, :8], ref_train)
    np.testing.assert_allclose(got, want)
    assert got.shape == (4, 8) and np.all((got >= 0) & (got <= 1))


def test_a_metric_with_nan_distances_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    from percmusic_cli.errors import DataError
    from percmusic_cli.steps import study as st
    from percmusic_cli.steps.views import SplitView

    class Blocks:
        def __init__(self, *a: object, **k: object) -> None:
            pass

        def get(self, rows: str, cols: str) -> np.ndarray:
            return np.array([[0.0, np.nan], [np.nan, 0.0]])

    monkeypatch.setattr(st, "DistanceBlocks", Blocks)
    view = SplitView("ds", "s", "fh", ["a", "b"], ["x", "y"], {"all": np.arange(2)})
    with pytest.raises(DataError, match="metric 'mse': its stored distances hold NaN"):
        st._matrices(None, view, ["mse"], 2, "cpu")  # type: ignore[arg-type]
