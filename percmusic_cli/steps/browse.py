"""Dashboard reads that need more than SQL: one track's spectrogram, its nearest neighbours
from the stored distance matrices, and the stored Fig. 1 statistics of the active split.

A stored matrix is used only if its key still matches the active split's track ids, so a
matrix from an earlier split is never read with the wrong row labels."""

from __future__ import annotations

from typing import Any

import numpy as np

from percmusic_cli.errors import DataError
from percmusic_cli.metrics import registry
from percmusic_cli.steps.distances import block_key
from percmusic_cli.steps.views import SplitView, split_view
from percmusic_cli.store import Store
from percmusic_cli.store import browse as sb
from percmusic_cli.store import distances as sd
from percmusic_cli.store import tables as t
from percmusic_cli.store.distances import DistanceSet


def track_image(store: Store, dataset: str, track_id: str) -> np.ndarray | None:
    """The track's log-mel image (n_mels, n_frames) from the latest feature set, or None."""
    with store.connect(read_only=True) as con:
        key = t.latest_feature_hash(con, dataset)
        found = sb.feature_row(con, key, track_id) if key else None
    if found is None:
        return None
    row, rec = found
    return np.array(sb.open_mmap(store, rec)[row], dtype=np.float32)


def _matches(ds: DistanceSet, view: SplitView) -> bool:
    """Whether the matrix was computed on exactly the view's tracks (its key says so)."""
    if ds.rows_part not in view.rows or ds.cols_part not in view.rows:
        return False
    return block_key(ds.config.get("key", {}), view, ds.rows_part, ds.cols_part) == ds.dist_hash


def _current_sets(store: Store, view: SplitView) -> list[tuple[DistanceSet, np.ndarray]]:
    with store.connect(read_only=True) as con:
        sets = [ds for ds in sb.distance_sets(con, view.feature_hash) if _matches(ds, view)]
        recs = sb.array_records(con, [ds.array_path for ds in sets])
    return [(ds, sb.open_mmap(store, recs[ds.array_path])) for ds in sets if ds.array_path in recs]


def _view(store: Store, dataset: str) -> SplitView | None:
    try:
        return split_view(store, dataset)
    except DataError:
        return None  # no features or no split yet: nothing to measure against


def _distances_from(
    track_id: str, view: SplitView, ds: DistanceSet, m: np.ndarray
) -> dict[str, float]:
    row_ids, col_ids = view.ids(ds.rows_part), view.ids(ds.cols_part)
    out: dict[str, float] = {}
    if track_id in row_ids:
        out.update(zip(col_ids, map(float, m[row_ids.index(track_id)]), strict=True))
    if track_id in col_ids and ds.rows_part != ds.cols_part:
        out.update(zip(row_ids, map(float, m[:, col_ids.index(track_id)]), strict=True))
    return out


def nearest_neighbours(
    store: Store, dataset: str, track_id: str, n: int = 5
) -> dict[str, list[dict[str, Any]]]:
    """Per metric with stored distances from the track: its `n` nearest other tracks
    (track_id, label, part, distance), nearest first."""
    view = _view(store, dataset)
    if view is None:
        return {}
    label = dict(zip(view.track_ids, view.labels, strict=True))
    part = {tid: p for p in ("train", "valid", "test") for tid in view.ids(p)}
    found: dict[str, dict[str, float]] = {}
    for ds, matrix in _current_sets(store, view):
        found.setdefault(ds.metric, {}).update(_distances_from(track_id, view, ds, matrix))
    out: dict[str, list[dict[str, Any]]] = {}
    order = registry.names()
    for metric in sorted(found, key=lambda m: order.index(m) if m in order else len(order)):
        dists = {k: v for k, v in found[metric].items() if k != track_id}
        nearest = sorted(dists, key=lambda k: (dists[k], k))[:n]
        out[metric] = [
            {
                "track_id": k,
                "label": label.get(k, "?"),
                "part": part.get(k, "-"),
                "distance": dists[k],
            }
            for k in nearest
        ]
    return out


def distance_stats(store: Store, dataset: str) -> dict[str, list[dict[str, Any]]]:
    """Per metric: the Fig. 1 statistics `distances stats` stored for the all x all matrix
    of the dataset's active split (the same rows `distances stats --plot` draws)."""
    view = _view(store, dataset)
    if view is None:
        return {}
    out: dict[str, list[dict[str, Any]]] = {}
    with store.connect(read_only=True) as con:
        for ds in sb.distance_sets(con, view.feature_hash):
            if ds.rows_part == ds.cols_part == "all" and _matches(ds, view):
                rows = [r for r in sd.load_stats(con, ds.metric) if r["dist_hash"] == ds.dist_hash]
                if rows:
                    out[ds.metric] = rows
    return out


def all_pair_matrices(store: Store, dataset: str) -> dict[str, tuple[np.ndarray, list[str]]]:
    """Per metric with a stored all x all matrix of the active split: the matrix and the
    label of each row (the figures' Fig. 1); empty without features, split or matrices."""
    view = _view(store, dataset)
    if view is None:
        return {}
    labels = [view.labels[i] for i in view.rows["all"]]
    return {
        ds.metric: (np.asarray(matrix), labels)
        for ds, matrix in _current_sets(store, view)
        if ds.rows_part == ds.cols_part == "all"
    }
