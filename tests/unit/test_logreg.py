"""Logistic regression on feature vectors: C selection on valid (ties to the smaller C),
the cross-validation fallback, refit on train, determinism."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from percmusic_cli.config import ClassifyConfig
from percmusic_cli.errors import DataError, UsageError
from percmusic_cli.experiments.logreg import logreg_experiment

CLASSES = ["disco", "pop", "rock"]
GRID = (0.01, 0.1, 1.0, 10.0)


def _data(
    seed: int, sizes: dict[str, int], spread: float = 1.5
) -> tuple[dict[str, np.ndarray], dict[str, list[str]]]:
    rng = np.random.default_rng(seed)
    xs, ys = {}, {}
    for part, n in sizes.items():
        y = [CLASSES[i % 3] for i in range(n)]
        x = rng.normal(size=(n, 6))
        x[:, :3] += spread * np.eye(3)[[CLASSES.index(c) for c in y]]
        xs[part], ys[part] = x, y
    return xs, ys


def _sk_pred(x_fit: np.ndarray, y_fit: list[str], x: np.ndarray, c: float) -> list[str]:
    model = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=2000))
    return model.fit(x_fit, y_fit).predict(x).tolist()


def test_c_chosen_on_valid_by_weighted_f1() -> None:
    xs, ys = _data(0, {"train": 60, "valid": 45, "test": 45}, spread=0.8)
    res = logreg_experiment(xs, ys, ClassifyConfig(c_grid=GRID, n_boot=50))
    assert res.curve.param == "C" and res.curve.method == "valid"
    assert res.curve.values == list(GRID)
    for c, score in zip(GRID, res.curve.scores, strict=True):
        pred = _sk_pred(xs["train"], ys["train"], xs["valid"], c)
        assert score == pytest.approx(f1_score(ys["valid"], pred, average="weighted"))
    best = max(res.curve.scores)
    assert res.curve.chosen == min(
        c for c, s in zip(GRID, res.curve.scores, strict=True) if s == best
    )
    pred = _sk_pred(xs["train"], ys["train"], xs["test"], res.curve.chosen)
    assert [p.pred for p in res.predictions] == pred
    assert all(p.neighbours is None and p.distances is None for p in res.predictions)
    assert res.valid_f1 == pytest.approx(best)


def test_tied_c_go_to_the_smaller_c() -> None:
    # well separated classes: every C classifies valid perfectly, so all tie at 1.0
    xs, ys = _data(1, {"train": 30, "valid": 15, "test": 15}, spread=12.0)
    res = logreg_experiment(xs, ys, ClassifyConfig(c_grid=(10.0, 0.1, 1.0), n_boot=20))
    assert res.curve.scores == [1.0, 1.0, 1.0]
    assert res.curve.chosen == 0.1
    assert res.evaluation.f1_weighted == 1.0


def test_no_valid_part_uses_cv() -> None:
    xs, ys = _data(2, {"train": 30, "test": 15})
    res = logreg_experiment(xs, ys, ClassifyConfig(c_grid=(0.1, 1.0), n_boot=20, cv_folds=3))
    assert res.curve.method == "cv-3"
    assert any("no validation split" in n and "C chosen by 3-fold" in n for n in res.notes)
    assert len(res.curve.scores) == 2
    assert all(0.0 <= s <= 1.0 for s in res.curve.scores)


def test_deterministic_and_class_order() -> None:
    xs, ys = _data(3, {"train": 30, "valid": 15, "test": 15})
    cfg = ClassifyConfig(c_grid=(0.1, 1.0), n_boot=100)
    a = logreg_experiment(xs, ys, cfg, class_order=["rock", "pop", "disco"])
    b = logreg_experiment(xs, ys, cfg, class_order=["rock", "pop", "disco"])
    assert a == b
    assert a.evaluation.labels == ["rock", "pop", "disco"]


def test_bad_inputs() -> None:
    xs, ys = _data(4, {"train": 12, "valid": 9, "test": 6})
    with pytest.raises(DataError):
        logreg_experiment({**xs, "test": xs["test"][:-1]}, ys, ClassifyConfig(n_boot=10))
    with pytest.raises(DataError):
        logreg_experiment({"train": xs["train"], "valid": xs["valid"]}, ys, ClassifyConfig())
    with pytest.raises(UsageError):
        logreg_experiment(xs, ys, ClassifyConfig(c_grid=(0.0, 1.0)))
    one_class = {p: ["pop"] * len(v) for p, v in ys.items()}
    with pytest.raises(DataError):
        logreg_experiment(xs, one_class, ClassifyConfig())
