"""Nearest centroid on the stored distance matrices: a test track goes to the class whose
training tracks are nearest on average under the metric.

The class distance is the power mean (mean of d**p over the class's training tracks)**(1/p);
p = 1 is the plain average. The power is the one tiny setting, chosen on the valid part's
weighted F1 as KNN chooses k (ties to the smaller power). Only distances are read, so any
registered metric serves, with no embedding of the tracks. A class with no training tracks
is never predicted; equal class distances go to the class that sorts first."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from percmusic_cli.classifiers.registry import ClassifierSpec, DistanceLookup
from percmusic_cli.config import MAX_BOOT, check_int, check_seed
from percmusic_cli.errors import DataError, UsageError
from percmusic_cli.experiments.report import ClassifierResult, Prediction, SelectionCurve
from percmusic_cli.experiments.stats import choose_best, encode, evaluate, label_space
from percmusic_cli.experiments.stats import weighted_f1_codes as _wf1


@dataclass(frozen=True)
class CentroidConfig:
    powers: tuple[float, ...] = (1.0, 2.0)  # candidates for p, tried on the valid part
    n_boot: int = 1000  # bootstrap resamples of the test tracks for the CIs
    seed: int = 0  # seeds the bootstrap

    def __post_init__(self) -> None:
        if not self.powers or not all(
            isinstance(p, int | float) and math.isfinite(p) and p > 0 for p in self.powers
        ):
            raise UsageError(f"centroid powers {self.powers!r}: positive finite numbers")
        check_int("--n-boot", self.n_boot, 0, MAX_BOOT)
        check_seed(self.seed)


def class_distances(d: np.ndarray, fit_codes: np.ndarray, n_classes: int, p: float) -> np.ndarray:
    """(queries, classes) power-mean distance to each class's fit tracks; inf for a class
    with none."""
    out = np.full((d.shape[0], n_classes), np.inf)
    powered = np.power(np.maximum(d.astype(np.float64), 0.0), p)
    for c in range(n_classes):
        cols = fit_codes == c
        if cols.any():
            out[:, c] = np.power(powered[:, cols].mean(axis=1), 1.0 / p)
    return out


def predict(d: np.ndarray, fit_codes: np.ndarray, n_classes: int, p: float) -> np.ndarray:
    """The code of each query's nearest class (argmin: ties to the lower code)."""
    return np.argmin(class_distances(d, fit_codes, n_classes, p), axis=1)


def fit(
    get: DistanceLookup,
    labels: Mapping[str, Sequence[str]],
    cfg: CentroidConfig,
    class_order: Sequence[str] | None = None,
) -> ClassifierResult:
    """Choose p on valid, score the train centroids on test with bootstrap CIs."""
    if not labels.get("train") or not labels.get("test") or not labels.get("valid"):
        raise DataError("nearest centroid needs non-empty 'train', 'valid' and 'test' parts")
    space, order = label_space(labels, class_order)
    c = len(space)
    codes = {part: encode([str(x) for x in ys], space) for part, ys in labels.items()}
    valid_d = get("valid", "train")
    scores = [
        float(_wf1(codes["valid"], predict(valid_d, codes["train"], c, p), c)) for p in cfg.powers
    ]
    p = choose_best(cfg.powers, scores)
    preds = predict(get("test", "train"), codes["train"], c, p)
    y_true = [str(x) for x in labels["test"]]
    y_pred = [space[i] for i in preds]
    ev = evaluate(y_true, y_pred, labels=order, n_boot=cfg.n_boot, seed=cfg.seed)
    curve = SelectionCurve("p", [float(x) for x in cfg.powers], scores, p, "valid")
    predictions = [Prediction(i, y_true[i], y_pred[i]) for i in range(len(y_true))]
    return ClassifierResult(ev, curve, predictions, scores[list(cfg.powers).index(p)])


SPEC = ClassifierSpec(
    name="centroid",
    label="NC",
    param="p",
    description="nearest centroid: the class whose training tracks are nearest on average",
    inputs="distances",
    fit=fit,
    config_type=CentroidConfig,
    order=30,
)
