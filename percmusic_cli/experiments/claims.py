"""The study's claims as tested statements, from the arms' shared-resample scores.

Arms: "knn:<metric>" (the metric as KNN distance), "ae:<loss>" (logistic regression on the
latents of an autoencoder trained on noise with that loss), "raw" and "untrained" (the
controls). Every claim is a difference that is positive when the claim holds; all claims
of one study are Holm-corrected together.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from percmusic_cli.experiments.paired import ArmScores, difference, holm, verdict

Scores = Mapping[str, ArmScores]
Getter = Callable[[str], Any]
Stat = Callable[[Getter], Any]


def _minus(a: str, b: str) -> Stat:
    """Score of arm a minus score of arm b (floats or replicate arrays alike)."""

    def stat(g: Getter) -> Any:
        return g(a) - g(b)

    return stat


@dataclass(frozen=True)
class Claim:
    text: str
    kind: str  # "ae-vs-knn", "vs-untrained", "vs-raw", "nlpd-worst"
    metric: str | None
    # Applied to point scores (floats) and to replicate arrays alike.
    stat: Stat


def study_claims(metrics: Sequence[str], labels: Mapping[str, str]) -> list[Claim]:
    claims: list[Claim] = []
    for m in metrics:
        claims.append(
            Claim(
                f"AE+LR beats KNN ({labels[m]})",
                "ae-vs-knn",
                m,
                _minus(f"ae:{m}", f"knn:{m}"),
            )
        )
    for m in metrics:
        claims.append(
            Claim(
                f"trained beats untrained control ({labels[m]} loss)",
                "vs-untrained",
                m,
                _minus(f"ae:{m}", "untrained"),
            )
        )
        claims.append(
            Claim(
                f"trained beats raw pooled spectrograms ({labels[m]} loss)",
                "vs-raw",
                m,
                _minus(f"ae:{m}", "raw"),
            )
        )
    if "nlpd" in metrics and len(metrics) > 1:
        others = [m for m in metrics if m != "nlpd"]

        def worst(g: Getter) -> Any:
            best_other = g(f"knn:{others[0]}")
            for m in others[1:]:
                best_other = np.minimum(best_other, g(f"knn:{m}"))
            return best_other - g("knn:nlpd")

        claims.append(Claim("NLPD is the worst KNN distance", "nlpd-worst", "nlpd", worst))
    return claims


def evaluate_claims(claims: Sequence[Claim], scores: Scores) -> list[dict[str, Any]]:
    """One row per claim: difference, 95% CI, bootstrap p, Holm p, verdict."""
    diffs = [
        difference(
            float(c.stat(lambda a: scores[a].point)), np.asarray(c.stat(lambda a: scores[a].boot))
        )
        for c in claims
    ]
    adjusted = holm([d.p for d in diffs])
    return [
        {
            "claim": c.text,
            "kind": c.kind,
            "metric": c.metric,
            "diff": d.diff,
            "low": d.low,
            "high": d.high,
            "p": d.p,
            "p_holm": p_h,
            "verdict": verdict(d, p_h),
        }
        for c, d, p_h in zip(claims, diffs, adjusted, strict=True)
    ]
