"""The study as data: its arms, and claims that decompose the paper's effect per metric.

Arms (one place, so a classifier registry can later derive them): per metric m,
"knn:m" (m as the KNN distance), "ae:m" (logistic regression on the latents of an
autoencoder trained on noise with loss m), optionally "knn-<h>:m" (KNN on the distances
rescaled by hubness reduction h); and the controls "raw" (the same LR on pooled raw
spectrograms) and "untrained" (on an untrained encoder of the same shape).

Claims, per metric, each a difference in test weighted F1 that is positive when it holds:
- paper: AE+LR vs KNN, which splits exactly into
- classifier: raw pooled + LR vs KNN (what the classifier and pooling alone give), plus
- representation: trained AE vs raw pooled (what the learned latents add);
- training: trained vs untrained encoder (what perceptual training adds);
- hubness (when an arm ran): KNN with the reduction vs plain KNN (does it rescue m).
All claims of one study are Holm-corrected together.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from percmusic_cli.experiments.paired import ALPHA, ArmScores, difference, holm
from percmusic_cli.experiments.stats import corrected_resampled_t

Scores = Mapping[str, ArmScores]

CONTROLS = ("raw", "untrained")
BOOTSTRAP = "paired bootstrap"
CORRECTED_T = "corrected resampled t-test"


@dataclass(frozen=True)
class ArmSpec:
    name: str  # key in the scores: "knn:mse", "ae:mse", "knn-mp:mse", "raw", "untrained"
    role: str  # "knn", "ae", "knn-hub", "raw", "untrained"
    metric: str | None
    hubness: str = "none"


def study_arms(metrics: Sequence[str], hubness: Sequence[str] = ()) -> list[ArmSpec]:
    arms = []
    for m in metrics:
        arms.append(ArmSpec(f"knn:{m}", "knn", m))
        arms.append(ArmSpec(f"ae:{m}", "ae", m))
        arms.extend(ArmSpec(f"knn-{h}:{m}", "knn-hub", m, h) for h in hubness)
    arms.extend(ArmSpec(c, c, None) for c in CONTROLS)
    return arms


@dataclass(frozen=True)
class Claim:
    text: str
    kind: str  # "paper", "classifier", "representation", "training", "hubness"
    metric: str
    plus: str  # arm whose score counts positively
    minus: str  # arm subtracted


def study_claims(
    metrics: Sequence[str], labels: Mapping[str, str], hubness: Sequence[str] = ()
) -> list[Claim]:
    claims: list[Claim] = []
    for m in metrics:
        lab = labels[m]
        claims += [
            Claim(f"{lab}: AE+LR beats KNN (paper)", "paper", m, f"ae:{m}", f"knn:{m}"),
            Claim(
                f"{lab}: raw pooled + LR beats KNN (classifier's share)",
                "classifier",
                m,
                "raw",
                f"knn:{m}",
            ),
            Claim(
                f"{lab}: trained AE beats raw pooled (representation's share)",
                "representation",
                m,
                f"ae:{m}",
                "raw",
            ),
            Claim(
                f"{lab}: trained beats untrained encoder (training's share)",
                "training",
                m,
                f"ae:{m}",
                "untrained",
            ),
        ]
        claims += [
            Claim(
                f"{lab}: KNN with {h} beats KNN (hubness reduction rescues)",
                "hubness",
                m,
                f"knn-{h}:{m}",
                f"knn:{m}",
            )
            for h in hubness
        ]
    return claims


def leaning_verdict(diff: float, p_adjusted: float, alpha: float = ALPHA) -> str:
    """'supported' / 'contradicted' when the adjusted p is below alpha, else the direction
    the estimate leans: 'leans for (not resolved)', 'leans against (not resolved)'."""
    if not math.isnan(p_adjusted) and p_adjusted < alpha:
        return "supported" if diff > 0 else "contradicted"
    if diff > 0:
        return "leans for (not resolved)"
    if diff < 0:
        return "leans against (not resolved)"
    return "no difference (not resolved)"


def verdict_test(folds: int) -> str:
    """The test a verdict rests on: with K > 1 folds the corrected resampled t-test over the
    K x S runs (it accounts for the training sets' overlap); with one fold the bootstrap."""
    return CORRECTED_T if folds > 1 else BOOTSTRAP


def evaluate_claims(
    claims: Sequence[Claim], scores: Scores, folds: int = 1, train_test_ratio: float = 0.0
) -> list[dict[str, Any]]:
    """One row per claim: difference, unadjusted 95% bootstrap CI, bootstrap and corrected
    t p-values, each with its Holm adjustment, the test the verdict rests on, the verdict."""
    boots = [
        difference(scores[c.plus].point - scores[c.minus].point, _boot(c, scores)) for c in claims
    ]
    ts = [
        corrected_resampled_t(scores[c.plus].per_run - scores[c.minus].per_run, train_test_ratio)
        for c in claims
    ]
    boot_holm = holm([d.p for d in boots])
    t_holm = holm(ts)
    test = verdict_test(folds)
    n_boot = int(next(iter(scores.values())).boot.size) if scores else 0
    floor = 2.0 / (n_boot + 1) if n_boot else math.nan
    rows = []
    for c, d, t_p, b_h, t_h in zip(claims, boots, ts, boot_holm, t_holm, strict=True):
        p, p_h = (t_p, t_h) if test == CORRECTED_T else (d.p, b_h)
        rows.append(
            {
                "claim": c.text,
                "kind": c.kind,
                "metric": c.metric,
                "arms": [c.plus, c.minus],
                "diff": d.diff,
                "direction": "for" if d.diff > 0 else "against" if d.diff < 0 else "none",
                "low": d.low,
                "high": d.high,
                "ci": "unadjusted 95% paired bootstrap percentile interval",
                "test": test,
                "p": p,
                "p_holm": p_h,
                "p_at_floor": test == BOOTSTRAP and p <= floor * (1 + 1e-9),
                "p_bootstrap": d.p,
                "p_bootstrap_holm": b_h,
                "p_t": _finite(t_p),  # None with one run: JSON has no NaN
                "p_t_holm": _finite(t_h),
                "verdict": leaning_verdict(d.diff, p_h),
            }
        )
    return rows


def _finite(x: float) -> float | None:
    return None if math.isnan(x) else x


def _boot(c: Claim, scores: Scores) -> np.ndarray:
    return np.asarray(scores[c.plus].boot - scores[c.minus].boot)


def gain_sentences(
    claims: Sequence[Mapping[str, Any]], labels: Mapping[str, str]
) -> dict[str, str]:
    """Per metric, one plain sentence saying where AE+LR's gain over KNN comes from."""
    by: dict[str, dict[str, float]] = {}
    for c in claims:
        by.setdefault(c["metric"], {})[c["kind"]] = c["diff"]
    out = {}
    for m, d in by.items():
        if not {"paper", "classifier", "representation", "training"} <= d.keys():
            continue
        total, cls, rep, trn = d["paper"], d["classifier"], d["representation"], d["training"]
        parts = (
            f"AE+LR vs KNN {total:+.3f} = classifier (raw pooled + LR vs KNN) {cls:+.3f} "
            f"+ representation (trained AE vs raw pooled) {rep:+.3f}; "
            f"trained vs untrained encoder {trn:+.3f}"
        )
        if total <= 0:
            where = "AE+LR does not beat KNN here"
        elif rep <= 0:
            where = (
                "the gain comes from logistic regression on pooled features, "
                "not from the trained representation"
            )
        elif cls <= 0:
            where = "the gain comes from the trained representation"
        else:
            where = f"the gain is {cls / total:.0%} classifier and {rep / total:.0%} representation"
        out[m] = f"{labels.get(m, m)}: {where} ({parts})."
    return out
