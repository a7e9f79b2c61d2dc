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


@pytest.mark.parametrize("weights", ["uniform", "distance"])
def test_predictions_match_sklearn_for_every_k(weights: str) -> None:
    xs, ys = _points(0, {"train": 60, "test": 40})
    get = _lookup(xs)
    codes = np.array([CLASSES.index(c) for c in ys["train"]])
    preds, _, dist = predict_all_k(get("test", "train"), codes, 3, 20, weights)
    assert np.all(np.diff(dist, axis=1) >= 0)
    for k in (1, 2, 4, 7, 20):
        ours = [CLASSES[i] for i in preds[k - 1]]
        theirs = _sk_predict(get("train", "train"), ys["train"], get("test", "train"), k, weights)
        assert ours == theirs, k


def test_curve_is_weighted_f1_on_valid_and_model_refit_on_train() -> None:
    xs, ys = _points(1, {"train": 45, "valid": 30, "test": 30})
    get = _lookup(xs)
    res = knn_experiment(get, ys, KnnConfig(k_max=12, n_boot=50))
    assert res.curve.method == "valid" and res.curve.param == "k"
    assert res.curve.values == [float(k) for k in range(1, 13)]
    for k in (1, 5, 12):
        pred = _sk_predict(get("train", "train"), ys["train"], get("valid", "train"), k, "uniform")
        want = f1_score(ys["valid"], pred, average="weighted", zero_division=0)
        assert res.curve.scores[k - 1] == pytest.approx(want)
    best = max(res.curve.scores)
    assert res.curve.chosen == min(
        v for v, s in zip(res.curve.values, res.curve.scores, strict=True) if s == best
    )
    assert res.valid_f1 == pytest.approx(best)
    k = int(res.curve.chosen)
    pred = _sk_predict(get("train", "train"), ys["train"], get("test", "train"), k, "uniform")
    assert [p.pred for p in res.predictions] == pred
    assert res.evaluation.f1_weighted == pytest.approx(
        f1_score(ys["test"], pred, average="weighted", zero_division=0)
    )
    assert res.notes == []


def test_tied_k_go_to_the_smaller_k() -> None:
    """1-D points. Valid A items sit next to one stray B, so k=1 misclassifies them while
    k=2 (a 1:1 vote tie, won by the class that sorts first, A) and k=3 both get them right:
    k=2 and k=3 tie for the best score and k=2 must be chosen."""
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
    assert s[0] < s[1] == s[2] == max(s)
    assert res.curve.chosen == 2.0


def test_equal_distances_pick_lower_columns_deterministically() -> None:
    d = np.ones((3, 6))
    codes = np.array([1, 0, 1, 0, 0, 0])
    preds, idx, _ = predict_all_k(d, codes, 2, 3, "uniform")
    assert idx.tolist() == [[0, 1, 2]] * 3
    assert preds[0].tolist() == [1, 1, 1]  # nearest-by-order column 0 is class 1
    assert preds[1].tolist() == [0, 0, 0]  # 1:1 tie -> class code 0
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
    # the curve is the mean per-fold weighted F1 of scikit-learn's KNN on the same folds
    d, y = get("train", "train"), np.array(ys["train"])
    skf = StratifiedKFold(n_splits=4, shuffle=True, random_state=5)
    folds = list(skf.split(np.zeros((len(y), 1)), y))
    for k in (1, 6):
        f1s = []
        for tr, va in folds:
            pred = _sk_predict(d[np.ix_(tr, tr)], y[tr], d[np.ix_(va, tr)], k, "uniform")
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
