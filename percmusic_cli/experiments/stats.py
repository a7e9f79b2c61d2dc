"""Scores for label predictions: weighted/macro F1, accuracy, per-class scores, confusion
matrices (rows = true labels) and percentile-bootstrap confidence intervals over test items.

Everything goes through confusion counts, so a whole stack of bootstrap resamples is one
`bincount`: 1000 resamples of 300 items take milliseconds. The F1 definitions are those of
scikit-learn's `f1_score(..., zero_division=0)`; the tests check them against it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from percmusic_cli.errors import DataError, UsageError
from percmusic_cli.experiments.report import ClassScore, Evaluation, Interval

# Resamples per bincount: bounds memory to about 8 * _BOOT_CHUNK * n bytes for big test sets.
_BOOT_CHUNK = 250


def encode(values: Sequence[str], labels: Sequence[str]) -> np.ndarray:
    """Integer codes of `values` in `labels` order; unknown values are a data error."""
    index = {lab: i for i, lab in enumerate(labels)}
    try:
        return np.fromiter((index[v] for v in values), dtype=np.int64, count=len(values))
    except KeyError as exc:
        raise DataError(f"label {exc.args[0]!r} is not among the classes {list(labels)}") from None


def confusion_counts(t: np.ndarray, p: np.ndarray, n_classes: int) -> np.ndarray:
    """Confusion counts of coded labels; works on stacks: t, p of shape (..., n)."""
    t = np.asarray(t, dtype=np.int64)
    p = np.asarray(p, dtype=np.int64)
    cells = n_classes * n_classes
    lead = t.shape[:-1]
    flat = t * n_classes + p
    offsets = np.arange(int(np.prod(lead, dtype=np.int64)), dtype=np.int64).reshape((*lead, 1))
    counts = np.bincount((flat + offsets * cells).ravel(), minlength=cells * max(offsets.size, 1))
    return counts.reshape((*lead, n_classes, n_classes))


def _safe_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den with 0 where den == 0 (scikit-learn's zero_division=0)."""
    out = np.zeros(np.broadcast(num, den).shape, dtype=np.float64)
    np.divide(num, den, out=out, where=den > 0)
    return out


def class_scores(conf: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-class precision, recall, F1 and support from confusion counts (..., C, C)."""
    tp = np.diagonal(conf, axis1=-2, axis2=-1).astype(np.float64)
    support = conf.sum(axis=-1)
    predicted = conf.sum(axis=-2)
    precision = _safe_div(tp, predicted)
    recall = _safe_div(tp, support)
    # 2 tp / (2 tp + fp + fn), the form scikit-learn uses, equals 2 tp / (predicted + support).
    f1 = _safe_div(2.0 * tp, (predicted + support).astype(np.float64))
    return precision, recall, f1, support


def f1_weighted_from_confusion(conf: np.ndarray) -> np.ndarray:
    _, _, f1, support = class_scores(conf)
    return _safe_div((f1 * support).sum(axis=-1), support.sum(axis=-1).astype(np.float64))


def accuracy_from_confusion(conf: np.ndarray) -> np.ndarray:
    correct = np.diagonal(conf, axis1=-2, axis2=-1).sum(axis=-1)
    return _safe_div(correct.astype(np.float64), conf.sum(axis=(-2, -1)).astype(np.float64))


def weighted_f1_codes(t: np.ndarray, p: np.ndarray, n_classes: int) -> np.ndarray:
    """Weighted F1 of coded predictions; p may be a stack (m, n) against t (n,)."""
    t_b = np.broadcast_to(np.asarray(t), np.shape(p))
    return f1_weighted_from_confusion(confusion_counts(t_b, p, n_classes))


def bootstrap_confusions(
    t: np.ndarray, p: np.ndarray, n_classes: int, n_boot: int, seed: int
) -> np.ndarray:
    """(n_boot, C, C) confusion counts of resamples of the items, drawn with replacement."""
    rng = np.random.default_rng(seed)
    n = len(t)
    chunks = []
    for start in range(0, n_boot, _BOOT_CHUNK):
        m = min(_BOOT_CHUNK, n_boot - start)
        idx = rng.integers(0, n, size=(m, n))
        chunks.append(confusion_counts(t[idx], p[idx], n_classes))
    if not chunks:
        return np.zeros((0, n_classes, n_classes), dtype=np.int64)
    return np.concatenate(chunks, axis=0)


def percentile_interval(samples: np.ndarray, level: float) -> Interval:
    if samples.size == 0:
        return Interval(float("nan"), float("nan"), level)
    alpha = (1.0 - level) / 2.0
    low, high = np.quantile(samples, [alpha, 1.0 - alpha])
    return Interval(float(low), float(high), level)


def evaluate(
    y_true: Sequence[str],
    y_pred: Sequence[str],
    labels: Sequence[str] | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> Evaluation:
    """Scores with percentile-bootstrap intervals (resampling test items, seeded).

    `labels` fixes the class order of the confusion matrix and per-class table; by default
    the sorted union of true and predicted labels, as scikit-learn does.
    """
    if len(y_true) != len(y_pred):
        raise ValueError(f"{len(y_true)} true labels but {len(y_pred)} predictions")
    if len(y_true) == 0:
        raise DataError("nothing to evaluate: no test items")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")
    labs = [str(x) for x in (labels if labels is not None else sorted({*y_true, *y_pred}))]
    t, p = encode(y_true, labs), encode(y_pred, labs)
    c = len(labs)
    conf = confusion_counts(t, p, c)
    precision, recall, f1, support = class_scores(conf)
    # A class with no test items has no recall or F1 to report: NaN (shown "n/a", stored
    # null), and macro F1 averages over the classes the test part holds, not all of them.
    present = support > 0
    absent = np.where(present, 1.0, np.nan)
    precision, recall, f1 = precision * absent, recall * absent, f1 * absent
    boot = bootstrap_confusions(t, p, c, n_boot, seed)
    return Evaluation(
        labels=labs,
        n=len(t),
        accuracy=float(accuracy_from_confusion(conf)),
        f1_weighted=float(f1_weighted_from_confusion(conf)),
        f1_macro=float(f1[present].mean()) if present.any() else float("nan"),
        macro_classes=int(present.sum()),
        accuracy_ci=percentile_interval(accuracy_from_confusion(boot), level),
        f1_weighted_ci=percentile_interval(f1_weighted_from_confusion(boot), level),
        per_class=[
            ClassScore(lab, float(precision[i]), float(recall[i]), float(f1[i]), int(support[i]))
            for i, lab in enumerate(labs)
        ],
        confusion=conf.astype(int).tolist(),
    )


def choose_best(values: Sequence[float], scores: Sequence[float]) -> float:
    """The value with the highest score; ties (within float noise) go to the smallest value."""
    s = np.asarray(scores, dtype=np.float64)
    best = np.nanmax(s)
    tied = [v for v, x in zip(values, s, strict=True) if x >= best - 1e-12]
    return float(min(tied))


def cv_folds(
    codes: np.ndarray, folds: int, seed: int
) -> tuple[list[tuple[np.ndarray, np.ndarray]], str | None]:
    """Stratified shuffled folds over coded labels, with n_splits cut to the smallest class
    count when a class is too small (and a note saying so). At least 2 per class needed."""
    present = np.bincount(codes)
    smallest = int(present[present > 0].min()) if codes.size else 0
    if smallest < 2:
        raise DataError("cross-validation needs at least 2 training items in every class")
    n_splits = max(2, min(folds, smallest))
    note = None
    if n_splits < folds:
        note = (
            f"cross-validation reduced from {folds} to {n_splits} folds: "
            f"the smallest class has {smallest} training items"
        )
    # Imported here: scikit-learn's model_selection pulls in rich (its progress callbacks),
    # and importing the core must not load any UI library.
    from sklearn.model_selection import StratifiedKFold

    skf = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    splits = list(skf.split(np.zeros((codes.size, 1)), codes))
    return splits, note


def cv_reason(labels: Mapping[str, Sequence[str]], select_on: str, c: int) -> str | None:
    """Why k (or C) is chosen by cross-validation rather than on valid, or None. A valid
    part with fewer than 2 items per class on average is too noisy to choose on."""
    if select_on not in ("valid", "cv"):
        raise UsageError(f"select_on must be 'valid' or 'cv', got {select_on!r}")
    if select_on == "cv":
        return "cross-validation asked for"
    n_valid = len(labels.get("valid", ()))
    if n_valid == 0:
        return "no validation split"
    if n_valid < 2 * c:
        counts: dict[str, int] = {}
        for label in labels.get("train", ()):
            counts[str(label)] = counts.get(str(label), 0) + 1
        if min(counts.values(), default=0) < 2:
            return None  # cross-validation is impossible: a small valid part beats none
        return f"validation split too small ({n_valid} items for {c} classes)"
    return None


def cv_note(reason: str, param: str, folds: int) -> str:
    return f"{reason}: {param} chosen by {folds}-fold stratified cross-validation on train"


def label_space(
    labels: Mapping[str, Sequence[str]], class_order: Sequence[str] | None
) -> tuple[list[str], list[str]]:
    """(sorted code space for voting and scoring, class order for the report)."""
    seen = sorted({str(x) for part in labels.values() for x in part})
    if class_order is None:
        return seen, seen
    order = [str(x) for x in class_order]
    missing = [x for x in seen if x not in order]
    if missing:
        raise DataError(f"labels {missing} are not in the class order {order}")
    return sorted(order), order


def iter_pairs_upper(d: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Distances between distinct members of `rows` (upper triangle, no diagonal)."""
    sub = d[np.ix_(rows, rows)]
    iu = np.triu_indices(len(rows), k=1)
    return np.asarray(sub[iu], dtype=np.float64)


def distance_groups(d: np.ndarray, labels: Sequence[str]) -> dict[str, np.ndarray]:
    """Pairwise distances within each genre, plus "all" pairs (the study's Fig. 1 groups)."""
    d = np.asarray(d)
    if d.shape != (len(labels), len(labels)):
        raise ValueError(f"distance matrix {d.shape} does not match {len(labels)} labels")
    lab = np.asarray(labels)
    groups = {g: iter_pairs_upper(d, np.flatnonzero(lab == g)) for g in sorted(set(labels))}
    groups["all"] = iter_pairs_upper(d, np.arange(len(labels)))
    return groups


def distance_summary(groups: Mapping[str, np.ndarray]) -> list[dict[str, float | int | str]]:
    """One dict per group: group, n, mean, std, q05, q25, median, q75, q95 (for the table)."""
    rows: list[dict[str, float | int | str]] = []
    for name, values in groups.items():
        v = np.asarray(values, dtype=np.float64)
        row: dict[str, float | int | str] = {"group": name, "n": int(v.size)}
        if v.size:
            qs = np.quantile(v, [0.05, 0.25, 0.5, 0.75, 0.95])
            row.update(mean=float(v.mean()), std=float(v.std()))
            row.update(zip(("q05", "q25", "median", "q75", "q95"), map(float, qs), strict=True))
        rows.append(row)
    return rows


def corrected_resampled_t(diffs: np.ndarray, test_train_ratio: float) -> float:
    """Two-sided p of the corrected resampled t-test (Nadeau and Bengio 2003; the repeated
    K-fold form of Bouckaert and Frank 2004) on the J = folds x seeds per-run differences:
    t = mean / sqrt((1/J + n_test/n_train) var), J - 1 degrees of freedom. The n_test/n_train
    term widens the variance for the overlap of the training sets. NaN for J < 2."""
    from scipy.stats import t as student_t

    d = np.asarray(diffs, dtype=np.float64).ravel()
    j = d.size
    if j < 2:
        return math.nan
    mean, var = float(d.mean()), float(d.var(ddof=1))
    if var == 0.0:
        return 1.0 if mean == 0.0 else 0.0
    stat = mean / math.sqrt((1.0 / j + test_train_ratio) * var)
    return float(min(1.0, 2.0 * student_t.sf(abs(stat), j - 1)))


def chance_f1(test_codes: np.ndarray, n_classes: int, guess: np.ndarray | None = None) -> float:
    """Weighted F1 of a stratified random guess on these test tracks, from the expected
    confusion (no sampling): class j guessed with probability q_j (default: its share of
    the test tracks), so E[TP_j] = n_j q_j and E[predicted j] = n q_j."""
    counts = np.bincount(np.asarray(test_codes), minlength=n_classes).astype(np.float64)
    n = counts.sum()
    if n == 0:
        return math.nan
    q = counts / n if guess is None else np.asarray(guess, dtype=np.float64)
    den = counts + n * q
    f1 = np.divide(2.0 * counts * q, den, out=np.zeros_like(den), where=den > 0)
    return float(np.sum(f1 * counts / n))
