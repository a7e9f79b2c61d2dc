"""Claims as tested rows, K-fold test masks and the small-test hint."""

from __future__ import annotations

import numpy as np
import pytest

from percmusic_cli.errors import UsageError
from percmusic_cli.experiments.claims import evaluate_claims, study_claims
from percmusic_cli.experiments.folds import kfold_test_masks, small_test_hint
from percmusic_cli.experiments.paired import Arm, arm_scores

LABELS = {"mse": "MSE", "msssim": "1 - MS-SSIM", "nlpd": "NLPD"}


def _arms(
    rng: np.random.Generator, truth: list[np.ndarray], acc: dict[str, float]
) -> dict[str, Arm]:
    def arm(q: float) -> Arm:
        return Arm(
            [
                np.stack([np.where(rng.random(t.size) < q, t, (t + 1) % 4) for _ in range(2)])
                for t in truth
            ]
        )

    return {name: arm(q) for name, q in acc.items()}


def test_claims_verdicts_follow_the_data() -> None:
    rng = np.random.default_rng(0)
    truth = [rng.integers(0, 4, 60) for _ in range(3)]
    acc = {
        "knn:mse": 0.5,
        "knn:msssim": 0.5,
        "knn:nlpd": 0.1,  # NLPD clearly worst
        "ae:mse": 0.95,  # beats its KNN, raw and untrained
        "ae:msssim": 0.5,  # same as its KNN: unresolved
        "ae:nlpd": 0.1,  # below raw and untrained: contradicted
        "raw": 0.5,
        "untrained": 0.5,
    }
    scores = arm_scores(truth, _arms(rng, truth, acc), 4, n_boot=500, seed=1)
    rows = {r["claim"]: r for r in evaluate_claims(study_claims(list(LABELS), LABELS), scores)}
    assert len(rows) == 10
    assert rows["AE+LR beats KNN (MSE)"]["verdict"] == "supported"
    assert rows["AE+LR beats KNN (1 - MS-SSIM)"]["verdict"] == "not resolved at this size"
    assert rows["trained beats untrained control (NLPD loss)"]["verdict"] == "contradicted"
    assert rows["trained beats raw pooled spectrograms (MSE loss)"]["verdict"] == "supported"
    assert rows["NLPD is the worst KNN distance"]["verdict"] == "supported"
    for r in rows.values():
        assert r["p_holm"] >= r["p"] and r["low"] <= r["high"]
    nlpd = rows["NLPD is the worst KNN distance"]
    point = min(scores["knn:mse"].point, scores["knn:msssim"].point) - scores["knn:nlpd"].point
    assert nlpd["diff"] == pytest.approx(point)


def test_kfold_masks_are_disjoint_covering_and_stratified() -> None:
    labels = [g for g in "abcde" for _ in range(5)]
    masks = kfold_test_masks(labels, 5, seed=3)
    assert len(masks) == 5
    assert np.array_equal(np.sum(masks, axis=0), np.ones(25))  # every track tested once
    for m in masks:
        assert sorted(np.asarray(labels)[m]) == list("abcde")  # one per class per fold
    assert [m.tolist() for m in kfold_test_masks(labels, 5, seed=3)] == [m.tolist() for m in masks]
    with pytest.raises(UsageError, match="'a' has 5"):
        kfold_test_masks(labels, 6, seed=0)


def test_small_test_hint() -> None:
    assert small_test_hint(["a"] * 10 + ["b"] * 10) is None
    hint = small_test_hint(["a"] * 10 + ["b"] * 3)
    assert hint is not None and "'b'" in hint and "\n" not in hint
