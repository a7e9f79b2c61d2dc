"""Scores against scikit-learn, confusion orientation, bootstrap CIs, JSON round trip."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score
from sklearn.metrics import precision_recall_fscore_support as prfs

from percmusic_cli.errors import DataError
from percmusic_cli.experiments.report import (
    ClassifierResult,
    ClassScore,
    Evaluation,
    Interval,
    Prediction,
    SelectionCurve,
)
from percmusic_cli.experiments.stats import (
    choose_best,
    confusion_counts,
    cv_folds,
    distance_groups,
    distance_summary,
    evaluate,
)

GENRES = ["blues", "classical", "country", "disco", "hiphop"]


def _random_labels(seed: int, n: int, classes: list[str]) -> tuple[list[str], list[str]]:
    rng = np.random.default_rng(seed)
    t = rng.choice(classes, size=n)
    # Mostly right, sometimes wrong, and never predicting the last class: a label that is
    # true but never predicted exercises the zero-division paths.
    p = np.where(rng.random(n) < 0.5, t, rng.choice(classes[:-1], size=n))
    return t.tolist(), p.tolist()


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_scores_match_sklearn(seed: int) -> None:
    t, p = _random_labels(seed, 137, GENRES)
    ev = evaluate(t, p, n_boot=10)
    assert ev.labels == sorted(GENRES)
    assert ev.f1_weighted == pytest.approx(f1_score(t, p, average="weighted", zero_division=0))
    assert ev.f1_macro == pytest.approx(f1_score(t, p, average="macro", zero_division=0))
    assert ev.accuracy == pytest.approx(accuracy_score(t, p))
    assert ev.confusion == confusion_matrix(t, p, labels=ev.labels).tolist()
    pr, rc, f1, sup = prfs(t, p, labels=ev.labels, zero_division=0)
    assert [c.precision for c in ev.per_class] == pytest.approx(pr.tolist())
    assert [c.recall for c in ev.per_class] == pytest.approx(rc.tolist())
    assert [c.f1 for c in ev.per_class] == pytest.approx(f1.tolist())
    assert [c.support for c in ev.per_class] == sup.tolist()


def test_predicted_label_absent_from_truth_matches_sklearn() -> None:
    t = ["a", "a", "b", "b"]
    p = ["a", "c", "b", "c"]
    ev = evaluate(t, p, n_boot=5)
    assert ev.labels == ["a", "b", "c"]
    assert ev.f1_weighted == pytest.approx(f1_score(t, p, average="weighted", zero_division=0))
    # "c" has no test items: macro F1 covers the two classes present, and c's row is n/a.
    assert ev.f1_macro == pytest.approx(
        f1_score(t, p, labels=["a", "b"], average="macro", zero_division=0)
    )
    assert ev.macro_classes == 2
    c = ev.per_class[2]
    assert (c.support, math.isnan(c.f1), math.isnan(c.recall)) == (0, True, True)
    assert ev.to_dict()["per_class"][2]["f1"] is None


def test_class_absent_from_test_is_na_not_zero() -> None:
    ev = evaluate(["a", "a", "b"], ["a", "a", "b"], labels=["a", "b", "c", "d"], n_boot=5)
    assert ev.f1_macro == pytest.approx(1.0)  # not 0.5: c and d are not in the test part
    assert ev.macro_classes == 2
    back = type(ev).from_dict(ev.to_dict())
    assert math.isnan(back.per_class[3].f1) and back.macro_classes == 2


def test_confusion_rows_are_true_labels_in_given_order() -> None:
    ev = evaluate(["rock", "rock", "jazz"], ["jazz", "rock", "jazz"], labels=["rock", "jazz"])
    # one rock predicted as jazz: row "rock" (0), column "jazz" (1)
    assert ev.confusion == [[1, 1], [0, 1]]
    assert [c.label for c in ev.per_class] == ["rock", "jazz"]
    assert ev.per_class[0].support == 2


def test_confusion_counts_on_stacks() -> None:
    t = np.array([[0, 1, 1], [2, 2, 0]])
    p = np.array([[0, 0, 1], [2, 1, 0]])
    conf = confusion_counts(t, p, 3)
    assert conf.shape == (2, 3, 3)
    assert conf[0].tolist() == [[1, 0, 0], [1, 1, 0], [0, 0, 0]]
    assert conf[1].tolist() == [[1, 0, 0], [0, 0, 0], [0, 1, 1]]


def test_unknown_label_and_empty_input_are_data_errors() -> None:
    with pytest.raises(DataError):
        evaluate(["a"], ["z"], labels=["a", "b"])
    with pytest.raises(DataError):
        evaluate([], [])
    with pytest.raises(ValueError):
        evaluate(["a"], ["a", "b"])


def test_ci_contains_estimate_and_is_seeded() -> None:
    t, p = _random_labels(7, 300, GENRES)
    a = evaluate(t, p, n_boot=1000, seed=3)
    b = evaluate(t, p, n_boot=1000, seed=3)
    c = evaluate(t, p, n_boot=1000, seed=4)
    assert a == b
    assert a.f1_weighted_ci != c.f1_weighted_ci
    assert a.f1_weighted_ci.low < a.f1_weighted < a.f1_weighted_ci.high
    assert a.accuracy_ci.low < a.accuracy < a.accuracy_ci.high
    # a 95% interval of an accuracy near 0.6 on 300 items is about +-0.055 wide
    assert 0.08 < a.accuracy_ci.high - a.accuracy_ci.low < 0.14
    narrower = evaluate(t, p, n_boot=1000, seed=3, level=0.5)
    assert narrower.accuracy_ci.high - narrower.accuracy_ci.low < a.accuracy_ci.high - (
        a.accuracy_ci.low
    )


def test_bootstrap_coverage_of_a_bernoulli_accuracy() -> None:
    """Accuracy of n=200 items each right with p=0.7: the 95% interval should cover 0.7
    in roughly 90-98% of repetitions."""
    rng = np.random.default_rng(12345)
    reps, n, hits = 300, 200, 0
    truth = ["a"] * n
    for r in range(reps):
        pred = np.where(rng.random(n) < 0.7, "a", "b").tolist()
        ci = evaluate(truth, pred, labels=["a", "b"], n_boot=400, seed=r).accuracy_ci
        hits += ci.low <= 0.7 <= ci.high
    assert 0.90 <= hits / reps <= 0.98


def test_perfect_predictions_give_degenerate_interval() -> None:
    ev = evaluate(["a", "b"] * 10, ["a", "b"] * 10, n_boot=50)
    assert ev.f1_weighted == 1.0
    assert ev.f1_weighted_ci.low == ev.f1_weighted_ci.high == 1.0


def test_choose_best_breaks_ties_to_smaller_value() -> None:
    assert choose_best([1, 2, 3, 4], [0.2, 0.5, 0.1, 0.5]) == 2
    assert choose_best([0.1, 1.0, 10.0], [0.3, 0.3, 0.3]) == 0.1
    assert choose_best([5, 1, 3], [0.4, 0.1, 0.4]) == 3


def test_cv_folds_reduce_to_smallest_class_and_stay_stratified() -> None:
    y = np.array([0] * 10 + [1] * 3 + [2] * 6)
    splits, note = cv_folds(y, 5, seed=0)
    assert len(splits) == 3
    assert note is not None and "3 folds" in note
    for _, va in splits:
        assert np.bincount(y[va], minlength=3)[1] == 1
    assert sorted(np.concatenate([va for _, va in splits]).tolist()) == list(range(len(y)))
    with pytest.raises(DataError):
        cv_folds(np.array([0, 0, 1]), 5, seed=0)


def test_distance_groups_and_summary() -> None:
    d = np.array(
        [[0.0, 1.0, 5.0, 6.0], [1.0, 0.0, 7.0, 8.0], [5.0, 7.0, 0.0, 2.0], [6.0, 8.0, 2.0, 0.0]]
    )
    groups = distance_groups(d, ["x", "x", "y", "y"])
    assert groups["x"].tolist() == [1.0]
    assert groups["y"].tolist() == [2.0]
    assert sorted(groups["all"].tolist()) == [1.0, 2.0, 5.0, 6.0, 7.0, 8.0]
    rows = {r["group"]: r for r in distance_summary(groups)}
    assert rows["all"]["n"] == 6
    assert rows["all"]["median"] == pytest.approx(5.5)
    assert rows["x"]["mean"] == 1.0


def _result() -> ClassifierResult:
    ev = evaluate(["a", "b", "b", "c"], ["a", "b", "c", "c"], n_boot=20)
    curve = SelectionCurve("k", [1.0, 2.0, 3.0], [0.5, 0.75, 0.25], 2.0, "valid")
    preds = [
        Prediction(0, "a", "a", [3, 1], [0.1, 0.25]),
        Prediction(1, "b", "c", None, None),
    ]
    return ClassifierResult(ev, curve, preds, 0.75, ["a note"])


def test_classifier_result_json_round_trip() -> None:
    res = _result()
    text = json.dumps(res.to_dict(), allow_nan=False)
    back = ClassifierResult.from_dict(json.loads(text))
    assert back == res
    assert back.evaluation.confusion == res.evaluation.confusion


def test_nan_becomes_null_in_json_and_back() -> None:
    iv = Interval(float("nan"), 0.5)
    d = iv.to_dict()
    assert d["low"] is None
    json.dumps(d, allow_nan=False)
    assert math.isnan(Interval.from_dict(d).low)
    cs = ClassScore("x", 0.5, 1.0, 2 / 3, 3)
    assert ClassScore.from_dict(json.loads(json.dumps(cs.to_dict()))) == cs
    ev = _result().evaluation
    assert Evaluation.from_dict(ev.to_dict()) == ev


def test_experiment_modules_import_no_ui_library() -> None:
    """Importing the classifiers loads no UI library (fresh interpreter). Running them may:
    scikit-learn 1.9's model_selection imports rich itself, so sklearn is imported lazily."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import percmusic_cli.experiments.knn, percmusic_cli.experiments.logreg\n"
        "bad = {'rich', 'plotext', 'typer', 'textual', 'duckdb'} & set(sys.modules)\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_small_valid_is_used_when_cross_validation_is_impossible() -> None:
    from percmusic_cli.experiments.stats import cv_reason

    one_each = {"train": ["a", "b"], "valid": ["a", "b"], "test": ["a", "b"]}
    assert cv_reason(one_each, "valid", 2) is None
    two_each = {"train": ["a", "a", "b", "b"], "valid": ["a", "b"], "test": ["a", "b"]}
    assert cv_reason(two_each, "valid", 2) is not None


def test_fold_of_reads_a_fold_runs_split_name() -> None:
    from percmusic_cli.experiments.folds import fold_of

    assert fold_of("random/fold2of5-s0") == ("random", "2/5")
    assert fold_of("fault-filtered/fold10of10-s-3") == ("fault-filtered", "10/10")
    assert fold_of("random") == ("random", "")
    assert fold_of("my/fold2of5") == ("my/fold2of5", "")  # no seed: not a fold run
