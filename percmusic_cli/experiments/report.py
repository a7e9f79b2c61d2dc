"""Result dataclasses for the classifiers, with a JSON-safe dict round trip.

Plain data only: the store saves `to_dict()` as JSON and `from_dict()` rebuilds the object;
the render layer draws them. Nothing here computes a score.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


def _num(x: float | None) -> float | None:
    """JSON has no NaN or infinity: store them as None."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _opt_float(x: Any) -> float:
    return math.nan if x is None else float(x)


@dataclass(frozen=True)
class ClassScore:
    label: str
    precision: float
    recall: float
    f1: float
    support: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "precision": _num(self.precision),
            "recall": _num(self.recall),
            "f1": _num(self.f1),
            "support": int(self.support),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ClassScore:
        return cls(
            label=str(d["label"]),
            precision=_opt_float(d["precision"]),
            recall=_opt_float(d["recall"]),
            f1=_opt_float(d["f1"]),
            support=int(d["support"]),
        )


@dataclass(frozen=True)
class Interval:
    low: float
    high: float
    level: float = 0.95

    def to_dict(self) -> dict[str, Any]:
        return {"low": _num(self.low), "high": _num(self.high), "level": float(self.level)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Interval:
        return cls(
            low=_opt_float(d["low"]), high=_opt_float(d["high"]), level=float(d.get("level", 0.95))
        )


@dataclass(frozen=True)
class Evaluation:
    """Scores of one set of test predictions. `confusion[i][j]` counts items whose true
    label is `labels[i]` and predicted label is `labels[j]` (rows = true)."""

    labels: list[str]
    n: int
    accuracy: float
    f1_weighted: float
    f1_macro: float
    accuracy_ci: Interval
    f1_weighted_ci: Interval
    per_class: list[ClassScore]
    confusion: list[list[int]]
    # Classes with test items, over which f1_macro averages; None in runs stored before
    # that rule (they averaged over every class).
    macro_classes: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "labels": list(self.labels),
            "n": int(self.n),
            "accuracy": _num(self.accuracy),
            "f1_weighted": _num(self.f1_weighted),
            "f1_macro": _num(self.f1_macro),
            "accuracy_ci": self.accuracy_ci.to_dict(),
            "f1_weighted_ci": self.f1_weighted_ci.to_dict(),
            "per_class": [c.to_dict() for c in self.per_class],
            "confusion": [[int(v) for v in row] for row in self.confusion],
            "macro_classes": self.macro_classes,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Evaluation:
        return cls(
            labels=[str(x) for x in d["labels"]],
            n=int(d["n"]),
            accuracy=_opt_float(d["accuracy"]),
            f1_weighted=_opt_float(d["f1_weighted"]),
            f1_macro=_opt_float(d["f1_macro"]),
            accuracy_ci=Interval.from_dict(d["accuracy_ci"]),
            f1_weighted_ci=Interval.from_dict(d["f1_weighted_ci"]),
            per_class=[ClassScore.from_dict(c) for c in d["per_class"]],
            confusion=[[int(v) for v in row] for row in d["confusion"]],
            macro_classes=None if d.get("macro_classes") is None else int(d["macro_classes"]),
        )


@dataclass(frozen=True)
class SelectionCurve:
    """Selection score (weighted F1) for each candidate value of `param` ("k" or "C");
    `method` is "valid" or "cv-N" (N-fold stratified cross-validation on train)."""

    param: str
    values: list[float]
    scores: list[float]
    chosen: float
    method: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "param": self.param,
            "values": [float(v) for v in self.values],
            "scores": [_num(s) for s in self.scores],
            "chosen": float(self.chosen),
            "method": self.method,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> SelectionCurve:
        return cls(
            param=str(d["param"]),
            values=[float(v) for v in d["values"]],
            scores=[_opt_float(s) for s in d["scores"]],
            chosen=float(d["chosen"]),
            method=str(d["method"]),
        )


@dataclass(frozen=True)
class Prediction:
    """One test item. `index` is its row in the test block; for KNN, `neighbours` are
    column indices into the fit set (nearest first) and `distances` their distances."""

    index: int
    true: str
    pred: str
    neighbours: list[int] | None = None
    distances: list[float] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": int(self.index),
            "true": self.true,
            "pred": self.pred,
            "neighbours": None if self.neighbours is None else [int(i) for i in self.neighbours],
            "distances": None if self.distances is None else [_num(x) for x in self.distances],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Prediction:
        nb = d.get("neighbours")
        ds = d.get("distances")
        return cls(
            index=int(d["index"]),
            true=str(d["true"]),
            pred=str(d["pred"]),
            neighbours=None if nb is None else [int(i) for i in nb],
            distances=None if ds is None else [_opt_float(x) for x in ds],
        )


@dataclass(frozen=True)
class ClassifierResult:
    evaluation: Evaluation
    curve: SelectionCurve
    predictions: list[Prediction]
    valid_f1: float | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "evaluation": self.evaluation.to_dict(),
            "curve": self.curve.to_dict(),
            "predictions": [p.to_dict() for p in self.predictions],
            "valid_f1": _num(self.valid_f1),
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ClassifierResult:
        vf = d.get("valid_f1")
        return cls(
            evaluation=Evaluation.from_dict(d["evaluation"]),
            curve=SelectionCurve.from_dict(d["curve"]),
            predictions=[Prediction.from_dict(p) for p in d["predictions"]],
            valid_f1=None if vf is None else float(vf),
            notes=[str(n) for n in d.get("notes", [])],
        )
