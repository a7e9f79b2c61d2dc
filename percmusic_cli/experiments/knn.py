"""K-nearest-neighbour genre classification on precomputed distance matrices (Experiment 1).

The classifier is scikit-learn's `KNeighborsClassifier(metric="precomputed")` rule, done
directly in numpy so that every k from 1 to k_max costs one sort and one cumulative vote:
- neighbours are ordered by distance with a *stable* sort, so among equal distances the
  lower fit-set column wins (scikit-learn's argpartition leaves that order unspecified);
- a vote tie goes to the tied class of the nearest neighbour among the tied classes'
  neighbours (TIE_RULE), not to the class that sorts first as in scikit-learn, whose rule
  favours alphabetically early genres at small k;
- weights="distance" weighs by 1/d, and a query at distance 0 from some fit items gives
  weight 1 to those and 0 to the others, as scikit-learn does.
Without vote ties or ties at the k-th distance the predictions equal scikit-learn's (a test
checks it). The vote is a function of the sorted (indices, distances) arrays alone, so any
path that finds the k_max nearest neighbours (a dense sort here, a streaming top-k) shares it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from percmusic_cli.config import KNN_WEIGHTS, KnnConfig
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
)
from percmusic_cli.experiments.stats import weighted_f1_codes as _wf1
from percmusic_cli.experiments.topk import merge

# get("test", "train") -> distances, rows = first part's tracks, cols = second part's tracks.
DistanceLookup = Callable[[str, str], np.ndarray]
# neighbours("test", "train", k, row_sel, col_sel) -> (idx, dist) as `nearest` gives them, of
# the block's rows (or rows `row_sel` of the part) among its columns (or columns `col_sel`).
NeighbourLookup = Callable[
    [str, str, int, np.ndarray | None, np.ndarray | None], tuple[np.ndarray, np.ndarray]
]

# Recorded in every KNN run's config and part of its cache key.
TIE_RULE = "nearest neighbour among the tied classes"


def nearest(d: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Column indices and distances of each row's k nearest columns, nearest first;
    equal distances keep column order (stable sort) so results never depend on the sort."""
    order = np.argsort(d, axis=1, kind="stable")[:, :k]
    return order, np.take_along_axis(d, order, axis=1)


def _vote_weights(dist: np.ndarray, weights: str) -> np.ndarray:
    if weights == "uniform":
        return np.ones_like(dist, dtype=np.float64)
    if weights != "distance":  # never fall through: a typo must not mean distance weighting
        raise UsageError(f"--weights {weights!r}: choose one of {', '.join(KNN_WEIGHTS)}")
    if (dist < 0).any():  # 1/d of a negative value would be a negative vote
        raise DataError(
            f"--weights distance: a neighbour is at a negative distance ({dist.min():.6g}); "
            "weighting by 1/d needs distances >= 0 (use --weights uniform)"
        )
    # Neighbours are sorted, so zero distances are a prefix: a row whose first distance is 0
    # keeps weight 1 for its zero-distance neighbours and 0 for the rest, for every k.
    exact = dist[:, :1] == 0
    with np.errstate(divide="ignore"):
        inv = 1.0 / dist.astype(np.float64)
    return np.where(exact, (dist == 0).astype(np.float64), inv)


def predict_all_k(
    d: np.ndarray, fit_codes: np.ndarray, n_classes: int, k_max: int, weights: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Predicted codes for every k in 1..k_max, shape (k_max, n_queries), plus the sorted
    neighbour indices and distances (n_queries, k_max). Class codes must be in sorted label
    order for ties to break as scikit-learn breaks them."""
    idx, dist = nearest(d, k_max)
    return vote(idx, dist, fit_codes, n_classes, weights), idx, dist


def vote(
    idx: np.ndarray, dist: np.ndarray, fit_codes: np.ndarray, n_classes: int, weights: str
) -> np.ndarray:
    """Predicted codes for every k in 1..k_max, shape (k_max, n_queries), from each query's
    k_max nearest fit items sorted nearest first (`idx`, `dist`: (n_queries, k_max)).

    A tie between classes at some k goes to the class of the nearest neighbour whose class
    is among the tied ones (TIE_RULE), so the result does not depend on the label order."""
    labs = fit_codes[idx]  # (n_q, k_max): class of each sorted neighbour
    w = _vote_weights(dist, weights)
    onehot = np.zeros((*idx.shape, n_classes), dtype=np.float64)
    np.put_along_axis(onehot, labs[..., None], w[..., None], axis=2)
    votes = np.cumsum(onehot, axis=1)  # (n_q, k_max, C): votes among the first k neighbours
    best = votes.max(axis=2, keepdims=True)
    tied = votes >= best - 1e-9 * np.maximum(best, 1.0)  # float sums of 1/d: allow rounding
    # in_tied[q, k, j]: neighbour j is among the first k+1 and its class is tied at k.
    in_tied = np.take_along_axis(tied, labs[:, None, :], axis=2)
    k_max = idx.shape[1]
    in_tied &= np.tri(k_max, dtype=bool)[None]
    first = in_tied.argmax(axis=2)  # (n_q, k_max): the nearest neighbour of a tied class
    return np.take_along_axis(labs, first, axis=1).T


def dense_neighbours(get: DistanceLookup, sizes: Mapping[str, int]) -> NeighbourLookup:
    """Neighbours from dense blocks, each checked for shape and finite values."""

    def lookup(
        rows: str, cols: str, k: int, row_sel: np.ndarray | None, col_sel: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        d = _check_matrix(get(rows, cols), sizes[rows], sizes[cols], f"{rows} x {cols}")
        if row_sel is not None or col_sel is not None:
            rs = np.arange(d.shape[0]) if row_sel is None else row_sel
            cs = np.arange(d.shape[1]) if col_sel is None else col_sel
            d = d[np.ix_(rs, cs)]
        return nearest(d, k)

    return lookup


def _check_matrix(d: np.ndarray, rows: int, cols: int, name: str) -> np.ndarray:
    d = np.asarray(d)
    if d.shape != (rows, cols):
        raise DataError(f"distance block {name} has shape {d.shape}, expected {(rows, cols)}")
    if not np.all(np.isfinite(d)):
        raise DataError(f"distance block {name} holds NaN or infinite values")
    return d


def _select_on_valid(
    nb: NeighbourLookup, codes: Mapping[str, np.ndarray], c: int, cfg: KnnConfig
) -> tuple[list[float], list[float]]:
    k_max = min(cfg.k_max, len(codes["train"]))
    idx, dist = nb("valid", "train", k_max, None, None)
    preds = vote(idx, dist, codes["train"], c, cfg.weights)
    return list(map(float, range(1, k_max + 1))), _wf1(codes["valid"], preds, c).tolist()


def _select_by_cv(
    nb: NeighbourLookup, codes: Mapping[str, np.ndarray], c: int, cfg: KnnConfig
) -> tuple[list[float], list[float], int, str | None]:
    y = codes["train"]
    splits, note = cv_folds(y, cfg.cv_folds, cfg.seed)
    k_max = min(cfg.k_max, min(len(tr) for tr, _ in splits))
    scores = np.zeros(k_max)
    for tr, va in splits:
        idx, dist = nb("train", "train", k_max, va, tr)
        preds = vote(idx, dist, y[tr], c, cfg.weights)
        scores += _wf1(y[va], preds, c)
    # Mean of per-fold scores, as scikit-learn's GridSearchCV ranks candidates.
    return list(map(float, range(1, k_max + 1))), (scores / len(splits)).tolist(), len(splits), note


def _fit_neighbours(
    codes: Mapping[str, np.ndarray], nb: NeighbourLookup, k: int, cfg: KnnConfig, notes: list[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each test track's k nearest fit tracks (idx, dist) and the fit codes, fit = train or
    train then valid (valid indices after train's, so ties keep train first, as in a dense
    train-then-valid block)."""
    n_tr = len(codes["train"])
    idx, dist = nb("test", "train", min(k, n_tr), None, None)
    if cfg.refit == "train" or len(codes.get("valid", ())) == 0:
        if cfg.refit != "train":
            notes.append("refit on train only: there is no validation split to add")
        return idx, dist, codes["train"]
    idx_v, dist_v = nb("test", "valid", min(k, len(codes["valid"])), None, None)
    notes.append("final model fit on train + valid (neighbour indices: train first, then valid)")
    idx, dist = merge(idx, dist, idx_v + n_tr, dist_v, k)
    return idx, dist, np.concatenate([codes["train"], codes["valid"]])


def knn_experiment(
    get: DistanceLookup,
    labels: Mapping[str, Sequence[str]],
    cfg: KnnConfig,
    class_order: Sequence[str] | None = None,
    neighbours: NeighbourLookup | None = None,
) -> ClassifierResult:
    """Choose k on valid (or by CV on train), refit, score on test with bootstrap CIs.
    Neighbours come from `get`'s dense blocks unless `neighbours` is given (a streamed
    top-k); both give the same (idx, dist), so the same votes."""
    if not labels.get("train") or not labels.get("test"):
        raise DataError("KNN needs non-empty 'train' and 'test' parts")
    space, order = label_space(labels, class_order)
    c = len(space)
    codes = {part: encode([str(x) for x in ys], space) for part, ys in labels.items()}
    nb = neighbours or dense_neighbours(get, {part: len(ys) for part, ys in codes.items()})
    notes: list[str] = []
    why_cv = cv_reason(labels, cfg.select_on, len({*labels["train"]}))
    if why_cv is None:
        ks, scores = _select_on_valid(nb, codes, c, cfg)
        method = "valid"
    else:
        ks, scores, folds, fold_note = _select_by_cv(nb, codes, c, cfg)
        method = f"cv-{folds}"
        notes += [cv_note(why_cv, "k", folds)] + ([fold_note] if fold_note else [])
    k = int(choose_best(ks, scores))
    idx, dist, fit_codes = _fit_neighbours(codes, nb, k, cfg, notes)
    preds = vote(idx, dist, fit_codes, c, cfg.weights)
    y_true = [str(x) for x in labels["test"]]
    y_pred = [space[i] for i in preds[k - 1]]
    ev = evaluate(y_true, y_pred, labels=order, n_boot=cfg.n_boot, seed=cfg.seed)
    predictions = [
        Prediction(i, y_true[i], y_pred[i], idx[i].tolist(), dist[i].astype(float).tolist())
        for i in range(len(y_true))
    ]
    curve = SelectionCurve("k", ks, scores, float(k), method)
    return ClassifierResult(ev, curve, predictions, float(scores[k - 1]), notes)
