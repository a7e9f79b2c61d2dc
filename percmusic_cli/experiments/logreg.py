"""Logistic-regression genre classification on feature vectors (Experiment 2's classifier).

StandardScaler + multinomial LogisticRegression (lbfgs, deterministic). C is chosen from
the grid by weighted F1 on valid (ties go to the smaller C, i.e. the stronger
regularisation), or by stratified CV on train when there is no usable valid part; the
final model is refit on train and scored on test.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np

from percmusic_cli.config import ClassifyConfig
from percmusic_cli.errors import DataError, UsageError
from percmusic_cli.experiments.report import ClassifierResult, Prediction, SelectionCurve
from percmusic_cli.experiments.stats import (
    choose_best,
    cv_folds,
    cv_note,
    cv_reason,
    encode,
    evaluate,
    label_space,
    weighted_f1_codes,
)


class _FitLog:
    """Counts fits that stopped at max_iter, so the result can say so once."""

    def __init__(self) -> None:
        self.unconverged = 0


def _fit_predict(
    x_fit: np.ndarray, y_fit: np.ndarray, x_eval: np.ndarray, c: float, max_iter: int, log: _FitLog
) -> np.ndarray:
    # Imported here: parts of scikit-learn pull in rich, which the core must not load on import.
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=max_iter))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        model.fit(x_fit, y_fit)
    log.unconverged += sum(issubclass(w.category, ConvergenceWarning) for w in caught)
    return np.asarray(model.predict(x_eval), dtype=np.int64)


def _check_features(features: Mapping[str, np.ndarray], part: str, n: int) -> np.ndarray:
    if part not in features:
        raise DataError(f"no features for the {part!r} part")
    x = np.asarray(features[part], dtype=np.float64)
    if x.ndim != 2 or x.shape[0] != n:
        raise DataError(f"features of {part!r} have shape {x.shape}, expected ({n}, d)")
    if not np.all(np.isfinite(x)):
        raise DataError(f"features of {part!r} hold NaN or infinite values")
    return x


def _score_grid_valid(
    xs: Mapping[str, np.ndarray],
    ys: Mapping[str, np.ndarray],
    n_cls: int,
    cfg: ClassifyConfig,
    log: _FitLog,
) -> list[float]:
    return [
        float(
            weighted_f1_codes(
                ys["valid"],
                _fit_predict(xs["train"], ys["train"], xs["valid"], c, cfg.max_iter, log),
                n_cls,
            )
        )
        for c in cfg.c_grid
    ]


def _score_grid_cv(
    x: np.ndarray, y: np.ndarray, n_cls: int, cfg: ClassifyConfig, log: _FitLog
) -> tuple[list[float], int, str | None]:
    splits, note = cv_folds(y, cfg.cv_folds, cfg.seed)
    scores = np.zeros(len(cfg.c_grid))
    for tr, va in splits:
        for j, c in enumerate(cfg.c_grid):
            pred = _fit_predict(x[tr], y[tr], x[va], c, cfg.max_iter, log)
            scores[j] += float(weighted_f1_codes(y[va], pred, n_cls))
    return (scores / len(splits)).tolist(), len(splits), note


def logreg_experiment(
    features: Mapping[str, np.ndarray],
    labels: Mapping[str, Sequence[str]],
    cfg: ClassifyConfig,
    class_order: Sequence[str] | None = None,
) -> ClassifierResult:
    """Choose C, refit on train, score on test with bootstrap CIs."""
    if not cfg.c_grid or any(c <= 0 for c in cfg.c_grid):
        raise UsageError(f"c_grid must hold positive values, got {cfg.c_grid}")
    if not labels.get("train") or not labels.get("test"):
        raise DataError("logistic regression needs non-empty 'train' and 'test' parts")
    space, order = label_space(labels, class_order)
    ys = {p: encode([str(v) for v in lab], space) for p, lab in labels.items()}
    if len(np.unique(ys["train"])) < 2:
        raise DataError("logistic regression needs at least 2 classes in train")
    xs = {p: _check_features(features, p, len(y)) for p, y in ys.items() if len(y)}
    log, notes = _FitLog(), []
    why_cv = cv_reason(labels, cfg.select_on, len(np.unique(ys["train"])))
    if why_cv is None:
        scores, method = _score_grid_valid(xs, ys, len(space), cfg, log), "valid"
    else:
        scores, folds, fold_note = _score_grid_cv(xs["train"], ys["train"], len(space), cfg, log)
        method = f"cv-{folds}"
        notes += [cv_note(why_cv, "C", folds)] + ([fold_note] if fold_note else [])
    grid = [float(c) for c in cfg.c_grid]
    chosen = choose_best(grid, scores)
    pred = _fit_predict(xs["train"], ys["train"], xs["test"], chosen, cfg.max_iter, log)
    if log.unconverged:
        notes.append(f"{log.unconverged} fit(s) stopped at max_iter={cfg.max_iter} unconverged")
    y_true = [str(v) for v in labels["test"]]
    y_pred = [space[i] for i in pred]
    ev = evaluate(y_true, y_pred, labels=order, n_boot=cfg.n_boot, seed=cfg.seed)
    predictions = [Prediction(i, t, p) for i, (t, p) in enumerate(zip(y_true, y_pred, strict=True))]
    curve = SelectionCurve("C", grid, scores, chosen, method)
    return ClassifierResult(ev, curve, predictions, scores[grid.index(chosen)], notes)
