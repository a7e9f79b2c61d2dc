"""Paired statistics: bootstrap against a plain loop, McNemar by hand, Holm from the
textbook, a truly zero difference, and the seed/fold (two-level) bootstrap."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import f1_score

from percmusic_cli.experiments.paired import (
    Arm,
    arm_scores,
    bootstrap_p,
    holm,
    mcnemar_exact,
    paired_bootstrap,
    verdict,
)


def _data(seed: int, n: int = 30, c: int = 4) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = rng.integers(0, c, n)
    pa = np.where(rng.random(n) < 0.7, t, rng.integers(0, c, n))
    pb = np.where(rng.random(n) < 0.4, t, rng.integers(0, c, n))
    return t, pa, pb


def test_paired_bootstrap_equals_a_plain_loop_over_the_same_resamples() -> None:
    t, pa, pb = _data(0)
    n_boot, seed = 200, 7
    res = paired_bootstrap(t, pa, pb, 4, n_boot=n_boot, seed=seed)
    rng = np.random.default_rng(seed)
    diffs = []
    for _ in range(n_boot):
        i = rng.integers(0, len(t), size=len(t))
        fa = f1_score(t[i], pa[i], average="weighted", zero_division=0)
        fb = f1_score(t[i], pb[i], average="weighted", zero_division=0)
        diffs.append(fa - fb)
    d = np.array(diffs)
    point = f1_score(t, pa, average="weighted", zero_division=0) - f1_score(
        t, pb, average="weighted", zero_division=0
    )
    assert res.diff == pytest.approx(point)
    assert res.low == pytest.approx(np.quantile(d, 0.025))
    assert res.high == pytest.approx(np.quantile(d, 0.975))
    below, above = (np.sum(d <= 0) + 1) / 201, (np.sum(d >= 0) + 1) / 201
    assert res.p == pytest.approx(min(1.0, 2 * min(below, above)))
    assert res.low > 0 and res.p < 0.05  # A is clearly better here


def test_the_same_predictions_twice_give_a_zero_difference_with_p_one() -> None:
    t, pa, _ = _data(1)
    res = paired_bootstrap(t, pa, pa.copy(), 4, n_boot=300, seed=0)
    assert res.diff == 0.0 and res.low <= 0.0 <= res.high and res.p == 1.0
    assert mcnemar_exact(pa == t, pa == t) == (0, 0, 1.0)
    assert verdict(res, holm([res.p])[0]) == "not resolved at this size"


def test_mcnemar_exact_against_a_hand_computed_case() -> None:
    # 8 discordant pairs, 1 one way and 7 the other:
    # p = 2 * (C(8,0) + C(8,1)) / 2^8 = 2 * 9 / 256 = 0.0703125
    a = np.array([1] * 7 + [0] * 1 + [1] * 5 + [0] * 3, dtype=bool)
    b = np.array([0] * 7 + [1] * 1 + [1] * 5 + [0] * 3, dtype=bool)
    assert mcnemar_exact(a, b) == (7, 1, pytest.approx(0.0703125))
    # balanced discordance: p capped at 1
    assert mcnemar_exact(np.array([1, 0], bool), np.array([0, 1], bool))[2] == 1.0


def test_holm_against_a_textbook_example() -> None:
    # Holm (1979) style: sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 =
    # 0.02, 0.03, 0.06, 0.04 -> monotone 0.02, 0.03, 0.06, 0.06; back in input order.
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])
    out = holm([0.01, math.nan])
    assert out[0] == pytest.approx(0.01) and math.isnan(out[1])


def test_bootstrap_p_extremes() -> None:
    assert bootstrap_p(np.ones(99)) == pytest.approx(2 / 100)
    assert bootstrap_p(np.zeros(10)) == 1.0


def test_seed_spread_widens_the_interval_and_folds_are_averaged() -> None:
    rng = np.random.default_rng(3)
    truth = [rng.integers(0, 3, 20) for _ in range(2)]
    same = Arm([np.stack([t, t, t]) for t in truth])  # three identical perfect seeds
    noisy = Arm(
        [
            np.stack([np.where(rng.random(20) < q, t, (t + 1) % 3) for q in (0.2, 0.6, 1.0)])
            for t in truth
        ]
    )
    s = arm_scores(truth, {"same": same, "noisy": noisy}, 3, n_boot=400, seed=0)
    assert s["same"].point == 1.0 and s["same"].sd_seeds == 0.0
    assert np.all(s["same"].boot == 1.0)
    per = s["noisy"].per_run
    assert per.shape == (2, 3)
    assert s["noisy"].point == pytest.approx(per.mean())
    assert s["noisy"].sd_seeds == pytest.approx(np.std(per.mean(axis=0), ddof=1))
    assert s["noisy"].sd_folds == pytest.approx(np.std(per.mean(axis=1), ddof=1))
    # the seed spread (0.2 .. 1.0 right) is far wider than one seed's test resampling
    one = arm_scores([truth[0]], {"x": Arm([noisy.preds[0][1:2]])}, 3, n_boot=400, seed=0)
    width = np.quantile(s["noisy"].boot, 0.975) - np.quantile(s["noisy"].boot, 0.025)
    one_w = np.quantile(one["x"].boot, 0.975) - np.quantile(one["x"].boot, 0.025)
    assert width > one_w * 0.9
    assert verdict(paired_bootstrap(truth[0], truth[0], noisy.preds[0][0], 3), 0.001) == "supported"


def _hand_mcnemar(n01: int, n10: int) -> float:
    """The formula the project used before scipy: twice the smaller binomial tail, capped."""
    n = n01 + n10
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(min(n01, n10) + 1)) / 2**n
    return min(1.0, 2.0 * tail)


@pytest.mark.parametrize("n01", [0, 1, 2, 5, 13, 40])
@pytest.mark.parametrize("n10", [0, 1, 3, 5, 21, 60])
def test_mcnemar_by_scipy_equals_the_hand_formula(n01: int, n10: int) -> None:
    a = np.array([1] * n01 + [0] * n10 + [1] * 4, dtype=bool)
    b = np.array([0] * n01 + [1] * n10 + [1] * 4, dtype=bool)
    got = mcnemar_exact(a, b)
    assert got[:2] == (n01, n10)
    assert got[2] == pytest.approx(_hand_mcnemar(n01, n10), rel=1e-12, abs=1e-300)
