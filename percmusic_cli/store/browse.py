"""Read-only queries for the dashboard: tracks with their split part, the distance sets of a
feature set, and memory-mapped views of stored arrays (one image, one matrix).

Arrays here are opened memory-mapped with a shape and dtype check but without a sha256 pass:
the dashboard only displays them, and hashing a GTZAN-sized feature array (600 MB) for one
spectrogram would take seconds. `percmusic check` is where checksums are verified."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from percmusic_cli.errors import ArrayIntegrityError
from percmusic_cli.store import tables as t
from percmusic_cli.store.arrays import ArrayRecord
from percmusic_cli.store.db import Store
from percmusic_cli.store.distances import DistanceSet


def track_rows(con: t.Con, dataset: str | None = None) -> list[dict[str, Any]]:
    """Every track (ok or not) with its part in its dataset's active split ("-" if none)."""
    where = "WHERE tr.dataset = ?" if dataset else ""
    return t.query(
        con,
        "SELECT tr.dataset, tr.track_id, tr.label, coalesce(sm.part, '-') AS part, tr.status, "
        "tr.duration_s, tr.error FROM tracks tr "
        "LEFT JOIN splits s ON s.dataset = tr.dataset AND s.active "
        "LEFT JOIN split_members sm ON sm.dataset = tr.dataset AND sm.split = s.name "
        f"AND sm.track_id = tr.track_id {where} ORDER BY tr.dataset, tr.track_id",
        [dataset] if dataset else [],
    )


def feature_row(con: t.Con, feature_hash: str, track_id: str) -> tuple[int, ArrayRecord] | None:
    """(row index, array record) of a track in a feature set, or None if it is not in it."""
    row = con.execute(
        "SELECT ft.row_index, fs.array_path FROM feature_tracks ft JOIN feature_sets fs "
        "USING (feature_hash) WHERE ft.feature_hash = ? AND ft.track_id = ?",
        [feature_hash, track_id],
    ).fetchone()
    if not row:
        return None
    rec = t.array_record(con, row[1])
    return (int(row[0]), rec) if rec else None


def distance_sets(con: t.Con, feature_hash: str) -> list[DistanceSet]:
    """Every stored distance matrix of a feature set, all x all first, then by metric."""
    rows = con.execute(
        "SELECT dist_hash, metric, feature_hash, rows_part, cols_part, config, n_rows, n_cols, "
        "array_path FROM distance_sets WHERE feature_hash = ? "
        "ORDER BY rows_part <> 'all', metric, rows_part, cols_part",
        [feature_hash],
    ).fetchall()
    return [
        DistanceSet(r[0], r[1], r[2], r[3], r[4], json.loads(r[5]), r[6], r[7], r[8]) for r in rows
    ]


def array_records(con: t.Con, paths: list[str]) -> dict[str, ArrayRecord]:
    out: dict[str, ArrayRecord] = {}
    for path in paths:
        rec = t.array_record(con, path)
        if rec is not None:
            out[path] = rec
    return out


def open_mmap(store: Store, rec: ArrayRecord) -> np.ndarray:
    """The array memory-mapped, checked against its recorded shape and dtype."""
    target = store.root / rec.path
    try:
        array = np.load(target, allow_pickle=False, mmap_mode="r")
    except (ValueError, OSError) as exc:
        raise ArrayIntegrityError(f"array file {target} is unreadable: {exc}") from exc
    if tuple(array.shape) != rec.shape or str(array.dtype) != rec.dtype:
        raise ArrayIntegrityError(
            f"array file {target} is not what the store recorded (run `percmusic check`)"
        )
    return array
