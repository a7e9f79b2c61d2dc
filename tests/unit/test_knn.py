"""KNN on precomputed distances: parity with scikit-learn, k selection and its ties,
the cross-validation fallback, refit on train+valid, recorded neighbours."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pytest
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold
from sklearn.neighbors import KNeighborsClassifier

from percmusic_cli.config import KnnConfig
from percmusic_cli.errors import DataError, UsageError
from percmusic_cli.experiments.knn import knn_experiment, predict_all_k

CLASSES = ["blues", "jazz", "metal"]


def _points(seed: int, sizes: dict[str, int]) -> tuple[dict[str, np.ndarray], dict[str, list[str]]]:
    """Gaussian clusters in 4-D, one per class, so KNN is better than chance but not perfect."""
    rng = np.random.default_rng(seed)
    xs, ys = {}, {}
    for part, n in sizes.items():
        y = [CLASSES[i % len(CLASSES)] for i in range(n)]
        centre = np.array([CLASSES.index(c) for c in y], dtype=float)[:, None]
        xs[part] = rng.normal(size=(n, 4)) + centre
        ys[part] = y
    return xs, ys


def _lookup(xs: dict[str, np.ndarray]) -> Callable[[str, str], np.ndarray]:
    def get(a: str, b: str) -> np.ndarray:
        return np.sqrt(((xs[a][:, None, :] - xs[b][None, :, :]) ** 2).sum(-1))

    return get


def _sk_predict(d_fit: np.ndarray, y_fit: Sequence[str], d_q: np.ndarray, k: int, w: str) -> list:
    clf = KNeighborsClassifier(n_neighbors=k, metric="precomputed", weights=w)
    return clf.fit(d_fit, y_fit).predict(d_q).tolist()


def _ref_votes(row: np.ndarray, y_fit: Sequence[str], k: int) -> tuple[dict[str, float], list[int]]:
    order = sorted(range(len(row)), key=lambda j: (row[j], j))[:k]
    votes: dict[str, float] = {}
    for j in order:
        votes[y_fit[j]] = votes.get(y_fit[j], 0.0) + 1.0
    return votes, order


def _ref_predict(d_q: np.ndarray, y_fit: Sequence[str], k: int) -> list[str]:
    """Plain-loop uniform KNN with the tie rule: of the classes with the most votes, the one
    of the nearest neighbour."""
    out = []
    for row in d_q:
        votes, order = _ref_votes(row, y_fit, k)
        top = max(votes.values())
        out.append(next(y_fit[j] for j in order if votes[y_fit[j]] == top))
    return out


def _has_tie(row: np.ndarray, y_fit: Sequence[str], k: int) -> bool:
    votes, _ = _ref_votes(row, y_fit, k)
    return sorted(votes.values())[-2:].count(max(votes.values())) > 1


@pytest.mark.parametrize("weights", ["uniform", "distance"])
def test_predictions_match_sklearn_for_every_k(weights: str) -> None:
    xs, ys = _points(0, {"train": 60, "test": 40})
    get = _lookup(xs)
    codes = np.array([CLASSES.index(c) for c in ys["train"]])
    preds, _, dist = predict_all_k(get("test", "train"), codes, 3, 20, weights)
    assert np.all(np.diff(dist, axis=1) >= 0)
    d_q, y_fit = get("test", "train"), ys["train"]
    for k in (1, 2, 4, 7, 20):
        ours = [CLASSES[i] for i in preds[k - 1]]
        theirs = _sk_predict(get("train", "train"), y_fit, d_q, k, weights)
        # scikit-learn breaks vote ties by label order, we by the nearest neighbour
        same = [
            i for i, row in enumerate(d_q) if weights == "distance" or not _has_tie(row, y_fit, k)
        ]
        assert len(same) > len(d_q) // 2
        assert [ours[i] for i in same] == [theirs[i] for i in same], k
        if weights == "uniform":
            assert ours == _ref_predict(d_q, y_fit, k), k


def test_curve_is_weighted_f1_on_valid_and_model_refit_on_train() -> None:
    xs, ys = _points(1, {"train": 45, "valid": 30, "test": 30})
    get = _lookup(xs)
    res = knn_experiment(get, ys, KnnConfig(k_max=12, n_boot=50))
    assert res.curve.method == "valid" and res.curve.param == "k"
    assert res.curve.values == [float(k) for k in range(1, 13)]
    for k in (1, 5, 12):
        pred = _ref_predict(get("valid", "train"), ys["train"], k)
        want = f1_score(ys["valid"], pred, average="weighted", zero_division=0)
        assert res.curve.scores[k - 1] == pytest.approx(want)
    best = max(res.curve.scores)
    assert res.curve.chosen == min(
        v for v, s in zip(res.curve.values, res.curve.scores, strict=True) if s == best
    )
    assert res.valid_f1 == pytest.approx(best)
    k = int(res.curve.chosen)
    pred = _ref_predict(get("test", "train"), ys["train"], k)
    assert [p.pred for p in res.predictions] == pred
    assert res.evaluation.f1_weighted == pytest.approx(
        f1_score(ys["test"], pred, average="weighted", zero_division=0)
    )
    assert res.notes == []


def test_tied_k_go_to_the_smaller_k() -> None:
    """1-D points. Valid A items sit next to one stray B, so k=1 misclassifies them while
    k=3 gets them right. k=2 always scores as k=1 (a 1:1 vote tie goes to the nearest
    neighbour's class); k=3 and k=4 tie for the best score and k=3 must be chosen."""
    pos = {
        "train": np.array([0.0, 0.1, 0.2, -0.05, 1.0, 1.1, 1.2, 5.0]),
        "valid": np.array([-0.06, -0.07, 1.1, 1.15]),
        "test": np.array([0.05, 1.05]),
    }
    ys = {
        "train": ["A", "A", "A", "B", "B", "B", "B", "B"],
        "valid": ["A", "A", "B", "B"],
        "test": ["A", "B"],
    }

    def get(a: str, b: str) -> np.ndarray:
        return np.abs(pos[a][:, None] - pos[b][None, :])

    res = knn_experiment(get, ys, KnnConfig(k_max=4, n_boot=20))
    assert res.curve.method == "valid"
    s = res.curve.scores
    assert s[0] == s[1] < s[2] == s[3] == max(s)
    assert res.curve.chosen == 3.0


def test_equal_distances_pick_lower_columns_deterministically() -> None:
    d = np.ones((3, 6))
    codes = np.array([1, 0, 1, 0, 0, 0])
    preds, idx, _ = predict_all_k(d, codes, 2, 3, "uniform")
    assert idx.tolist() == [[0, 1, 2]] * 3
    assert preds[0].tolist() == [1, 1, 1]  # nearest-by-order column 0 is class 1
    assert preds[1].tolist() == [1, 1, 1]  # 1:1 tie -> the nearest, column 0
    assert preds[2].tolist() == [1, 1, 1]  # 2:1


def test_distance_weights_with_an_exact_match() -> None:
    # column 2 is at distance 0: it alone decides, whatever k
    d = np.array([[0.1, 0.1, 0.0, 0.2]])
    preds, _, _ = predict_all_k(d, np.array([0, 0, 1, 0]), 2, 4, "distance")
    assert preds[:, 0].tolist() == [1, 1, 1, 1]


def test_no_valid_part_falls_back_to_stratified_cv() -> None:
    xs, ys = _points(2, {"train": 40, "test": 20})
    get = _lookup(xs)
    cfg = KnnConfig(k_max=10, n_boot=20, cv_folds=4, seed=5)
    res = knn_experiment(get, ys, cfg)
    assert res.curve.method == "cv-4"
    assert any("no validation split" in n and "4-fold" in n for n in res.notes)
    # the curve is the mean per-fold weighted F1 of a plain-loop KNN on the same folds
    d, y = get("train", "train"), np.array(ys["train"])
    skf = StratifiedKFold(n_splits=4, shuffle=True, random_state=5)
    folds = list(skf.split(np.zeros((len(y), 1)), y))
    for k in (1, 6):
        f1s = []
        for tr, va in folds:
            pred = _ref_predict(d[np.ix_(va, tr)], list(y[tr]), k)
            f1s.append(f1_score(y[va], pred, average="weighted", zero_division=0))
        assert res.curve.scores[k - 1] == pytest.approx(np.mean(f1s))


def test_small_valid_and_select_on_cv_use_cv() -> None:
    xs, ys = _points(3, {"train": 30, "valid": 4, "test": 12})
    get = _lookup(xs)
    res = knn_experiment(get, ys, KnnConfig(k_max=5, n_boot=20))
    assert res.curve.method.startswith("cv-")
    assert any("too small" in n for n in res.notes)
    xs, ys = _points(3, {"train": 30, "valid": 30, "test": 12})
    res = knn_experiment(_lookup(xs), ys, KnnConfig(k_max=5, n_boot=20, select_on="cv"))
    assert res.curve.method == "cv-5"


def test_cv_folds_reduced_for_tiny_classes() -> None:
    # 50-track-like case: 3 per class in train
    xs, ys = _points(4, {"train": 9, "test": 6})
    res = knn_experiment(_lookup(xs), ys, KnnConfig(k_max=50, n_boot=20))
    assert res.curve.method == "cv-3"
    assert max(res.curve.values) == 6.0  # each fold fits on 6 items
    assert any("reduced from 5 to 3 folds" in n for n in res.notes)


def test_refit_on_train_plus_valid_indexes_valid_after_train() -> None:
    xs, ys = _points(5, {"train": 30, "valid": 30, "test": 9})
    xs["test"][0] = xs["valid"][4]  # test item 0 duplicates valid item 4
    res = knn_experiment(_lookup(xs), ys, KnnConfig(k_max=5, n_boot=20, refit="train+valid"))
    p0 = res.predictions[0]
    assert p0.neighbours is not None and p0.distances is not None
    assert p0.neighbours[0] == 30 + 4
    assert p0.distances[0] == pytest.approx(0.0)
    assert any("train + valid" in n for n in res.notes)


def test_predictions_record_k_sorted_neighbours() -> None:
    xs, ys = _points(6, {"train": 30, "valid": 30, "test": 10})
    get = _lookup(xs)
    res = knn_experiment(get, ys, KnnConfig(k_max=8, n_boot=20))
    k = int(res.curve.chosen)
    d = get("test", "train")
    for p in res.predictions:
        assert p.neighbours is not None and p.distances is not None
        assert len(p.neighbours) == len(p.distances) == k
        assert p.distances == sorted(p.distances)
        assert p.distances == pytest.approx(d[p.index, p.neighbours].tolist())
        assert p.true == ys["test"][p.index]


def test_class_order_and_determinism() -> None:
    xs, ys = _points(7, {"train": 30, "valid": 30, "test": 15})
    get = _lookup(xs)
    order = ["metal", "blues", "jazz"]
    a = knn_experiment(get, ys, KnnConfig(k_max=6, n_boot=100), class_order=order)
    b = knn_experiment(get, ys, KnnConfig(k_max=6, n_boot=100), class_order=order)
    assert a == b
    assert a.evaluation.labels == order
    assert [c.label for c in a.evaluation.per_class] == order


def test_bad_inputs() -> None:
    xs, ys = _points(8, {"train": 12, "valid": 12, "test": 6})
    get = _lookup(xs)
    with pytest.raises(DataError):
        knn_experiment(lambda a, b: get(a, b)[:, :-1], ys, KnnConfig())
    with pytest.raises(UsageError):
        knn_experiment(get, ys, KnnConfig(weights="cosine"))
    with pytest.raises(UsageError):
        knn_experiment(get, ys, KnnConfig(select_on="test"))
    with pytest.raises(DataError):
        knn_experiment(get, ys, KnnConfig(), class_order=["blues", "jazz"])


def test_vote_ties_have_no_label_order_bias() -> None:
    """Renaming the classes (a permutation of the codes) renames the predictions and changes
    nothing else, on data full of vote ties; scikit-learn's rule would favour code 0."""
    rng = np.random.default_rng(9)
    d = rng.integers(0, 5, size=(200, 12)).astype(float)  # many equal distances too
    codes = rng.integers(0, 4, size=12)
    perm = np.array([3, 1, 0, 2])
    for weights in ("uniform", "distance"):
        a, _, _ = predict_all_k(d, codes, 4, 12, weights)
        b, _, _ = predict_all_k(d, perm[codes], 4, 12, weights)
        assert np.array_equal(perm[a], b), weights
    a, _, _ = predict_all_k(d, codes, 4, 12, "uniform")
    # k=2 ties everywhere its two neighbours differ: the nearest one always wins
    idx = np.argsort(d, axis=1, kind="stable")
    assert np.array_equal(a[1], codes[idx[:, 0]])
