"""Claims as tested rows, K-fold test masks and the small-test hint."""

from __future__ import annotations

import numpy as np
import pytest

from percmusic_cli.errors import UsageError
from percmusic_cli.experiments.claims import (
    evaluate_claims,
    gain_sentences,
    leaning_verdict,
    study_claims,
)
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


def test_claims_decompose_the_effect_and_say_which_way_they_lean() -> None:
    rng = np.random.default_rng(0)
    truth = [rng.integers(0, 4, 60) for _ in range(3)]
    acc = {
        "knn:mse": 0.5,
        "knn:msssim": 0.5,
        "knn:nlpd": 0.1,
        "ae:mse": 0.95,  # beats its KNN, raw and untrained
        "ae:msssim": 0.5,  # same as its KNN: unresolved
        "ae:nlpd": 0.1,  # below raw and untrained: contradicted
        "raw": 0.5,
        "untrained": 0.5,
    }
    scores = arm_scores(truth, _arms(rng, truth, acc), 4, n_boot=2000, seed=1)
    claims = study_claims(list(LABELS), LABELS)
    rows = {(r["metric"], r["kind"]): r for r in evaluate_claims(claims, scores)}
    assert len(rows) == 12
    assert {k for _, k in rows} == {"paper", "classifier", "representation", "training"}
    assert rows["mse", "paper"]["verdict"] == "supported"
    assert rows["msssim", "paper"]["verdict"].endswith("(not resolved)")
    assert rows["nlpd", "training"]["verdict"] == "contradicted"
    assert rows["nlpd", "classifier"]["verdict"] == "supported"  # raw LR beats NLPD-KNN
    assert rows["mse", "representation"]["verdict"] == "supported"
    for r in rows.values():
        assert r["p_holm"] >= r["p"] and r["low"] <= r["high"]
        assert r["test"] == "paired bootstrap"  # one fold: the bootstrap decides
        assert r["direction"] == ("for" if r["diff"] > 0 else "against")
    m = rows["mse", "paper"]
    assert m["diff"] == pytest.approx(scores["ae:mse"].point - scores["knn:mse"].point)


def test_leaning_verdicts_name_the_direction() -> None:
    assert leaning_verdict(0.1, 0.01) == "supported"
    assert leaning_verdict(-0.1, 0.01) == "contradicted"
    assert leaning_verdict(-0.1, 0.2) == "leans against (not resolved)"
    assert leaning_verdict(0.1, 0.2) == "leans for (not resolved)"
    assert leaning_verdict(0.0, 1.0) == "no difference (not resolved)"


def test_gain_sentence_says_where_the_gain_comes_from() -> None:
    rows = [
        {"metric": "mse", "kind": "paper", "diff": 0.10},
        {"metric": "mse", "kind": "classifier", "diff": 0.15},
        {"metric": "mse", "kind": "representation", "diff": -0.05},
        {"metric": "mse", "kind": "training", "diff": 0.02},
    ]
    text = gain_sentences(rows, LABELS)["mse"]
    assert text.startswith("MSE: the gain comes from logistic regression on pooled features")
    assert "+0.100" in text and "+0.150" in text and "-0.050" in text and "\n" not in text


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
    assert "--folds 5" in hint and "--seeds 3" in hint
    after = small_test_hint(["a"] * 10 + ["b"] * 3, seeds=3, folds=5)
    assert after is not None and "--folds" not in after and "--seeds" not in after
