"""Is a difference real? Paired tests on the same test tracks, repeated seeds and folds.

Weighted F1 differences: a paired bootstrap. Each replicate resamples the test tracks with
replacement once and scores every run on that same resample, so the difference keeps the
pairing (both runs are judged on the same tracks). The 95% interval is the percentile
interval of the replicate differences; the two-sided p-value is
`min(1, 2 min((#{d* <= 0} + 1) / (B + 1), (#{d* >= 0} + 1) / (B + 1)))`, the smallest level
at which the percentile interval excludes 0 (with the add-one correction, so never 0).
Identical predictions give d* = 0 in every replicate: interval [0, 0] and p = 1.

Seeds and folds (an "arm" is one configuration, e.g. KNN with MSE, run on F folds with S
seeds each): an arm's score is the mean over folds of the mean over seeds of test weighted
F1. A replicate resamples the test tracks within each fold (the folds' test sets are
disjoint, so this is a stratified bootstrap) and, independently per arm, the S seeds with
replacement; so the interval accounts for both the test sample and the seed-to-seed
spread (a two-level bootstrap). With S = F = 1 it is the plain paired bootstrap.

Accuracy: McNemar's exact test on per-track correctness (binomial on the discordant
pairs). Several comparisons: Holm's step-down correction.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from percmusic_cli.experiments.stats import confusion_counts, f1_weighted_from_confusion

# Replicates per bincount: bounds memory to about 8 * chunk * n_tracks * seeds bytes.
_CHUNK = 250
ALPHA = 0.05


@dataclass(frozen=True)
class Arm:
    """One configuration's predictions: per fold a (seeds, tracks) array of class codes."""

    preds: list[np.ndarray]


@dataclass(frozen=True)
class ArmScores:
    point: float  # mean over folds of the mean over seeds
    sd_seeds: float  # sd (ddof=1) over seeds of the fold-mean score; nan for one seed
    sd_folds: float  # sd (ddof=1) over folds of the seed-mean score; nan for one fold
    per_run: np.ndarray  # (folds, seeds) test weighted F1 of each run
    boot: np.ndarray  # (B,) replicate scores


@dataclass(frozen=True)
class Difference:
    diff: float
    low: float
    high: float
    p: float
    level: float = 0.95


def _f1(t: np.ndarray, p: np.ndarray, n_classes: int) -> np.ndarray:
    """Weighted F1 of prediction stacks p (..., n) against truths t broadcastable to p."""
    t_b = np.broadcast_to(t, p.shape)
    return f1_weighted_from_confusion(confusion_counts(t_b, p, n_classes))


def _sd(x: np.ndarray) -> float:
    return float(np.std(x, ddof=1)) if x.size > 1 else math.nan


def arm_scores(
    truth: Sequence[np.ndarray],
    arms: Mapping[str, Arm],
    n_classes: int,
    n_boot: int = 1000,
    seed: int = 0,
) -> dict[str, ArmScores]:
    """Scores of every arm, all arms sharing the same test-track resamples (see module)."""
    n_folds = len(truth)
    for name, arm in arms.items():
        if len(arm.preds) != n_folds:
            raise ValueError(f"arm {name!r} has {len(arm.preds)} folds, expected {n_folds}")
    rng = np.random.default_rng(seed)
    boot = {name: np.zeros(n_boot) for name in arms}
    for start in range(0, n_boot, _CHUNK):
        m = min(_CHUNK, n_boot - start)
        for f, t in enumerate(truth):
            idx = rng.integers(0, len(t), size=(m, len(t)))  # shared by every arm and seed
            for name, arm in arms.items():
                p = np.asarray(arm.preds[f])
                scores = _f1(t[idx][None], p[:, idx], n_classes)  # (seeds, m)
                s = p.shape[0]
                if s > 1:  # resample the seeds too, independently per arm
                    pick = rng.integers(0, s, size=(m, s))
                    chosen = np.take_along_axis(scores.T, pick, axis=1).mean(axis=1)
                else:
                    chosen = scores[0]
                boot[name][start : start + m] += chosen / n_folds
    out = {}
    for name, arm in arms.items():
        per_run = np.stack(
            [_f1(t, np.asarray(p), n_classes) for t, p in zip(truth, arm.preds, strict=True)]
        )
        out[name] = ArmScores(
            point=float(per_run.mean(axis=1).mean()),
            sd_seeds=_sd(per_run.mean(axis=0)),
            sd_folds=_sd(per_run.mean(axis=1)),
            per_run=per_run,
            boot=boot[name],
        )
    return out


def bootstrap_p(d: np.ndarray) -> float:
    """Two-sided bootstrap p-value of replicate differences d* against 0 (see module)."""
    b = d.size
    if b == 0:
        return math.nan
    below = (np.count_nonzero(d <= 0) + 1) / (b + 1)
    above = (np.count_nonzero(d >= 0) + 1) / (b + 1)
    return float(min(1.0, 2.0 * min(below, above)))


def difference(point: float, boot: np.ndarray, level: float = 0.95) -> Difference:
    """The difference, its percentile interval and bootstrap p from replicate differences."""
    alpha = (1.0 - level) / 2.0
    if boot.size == 0:
        return Difference(point, math.nan, math.nan, math.nan, level)
    low, high = np.quantile(boot, [alpha, 1.0 - alpha])
    return Difference(point, float(low), float(high), bootstrap_p(boot), level)


def paired_bootstrap(
    t: np.ndarray,
    pa: np.ndarray,
    pb: np.ndarray,
    n_classes: int,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> Difference:
    """Weighted F1 of A minus B on the same tracks; one set of resamples for both."""
    s = arm_scores([t], {"a": Arm([pa[None]]), "b": Arm([pb[None]])}, n_classes, n_boot, seed)
    return difference(s["a"].point - s["b"].point, s["a"].boot - s["b"].boot, level)


def mcnemar_exact(correct_a: np.ndarray, correct_b: np.ndarray) -> tuple[int, int, float]:
    """(A right & B wrong, A wrong & B right, exact two-sided p): scipy's exact binomial
    test of the discordant counts under p = 1/2 (twice the smaller tail, capped at 1);
    p = 1 with no discordance."""
    from scipy.stats import binomtest  # imported here: scipy.stats takes a while to load

    a = np.asarray(correct_a, dtype=bool)
    b = np.asarray(correct_b, dtype=bool)
    n01 = int(np.count_nonzero(a & ~b))
    n10 = int(np.count_nonzero(~a & b))
    n = n01 + n10
    if n == 0:
        return n01, n10, 1.0
    return n01, n10, float(binomtest(n01, n, 0.5, alternative="two-sided").pvalue)


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values, in the input order (NaN stays NaN)."""
    p = np.asarray(pvalues, dtype=np.float64)
    ok = np.flatnonzero(~np.isnan(p))
    out = np.full(p.shape, np.nan)
    m = ok.size
    running = 0.0
    for rank, i in enumerate(ok[np.argsort(p[ok], kind="stable")]):
        running = max(running, min(1.0, (m - rank) * p[i]))
        out[i] = running
    return out.tolist()


def verdict(diff: Difference, p_adjusted: float, alpha: float = ALPHA) -> str:
    """'supported' (the claimed direction, diff > 0), 'contradicted', or 'not resolved'."""
    if math.isnan(p_adjusted) or p_adjusted >= alpha:
        return "not resolved at this size"
    return "supported" if diff.diff > 0 else "contradicted"
