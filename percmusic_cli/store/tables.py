"""Typed reads and writes of the store's tables. Callers pass a connection from
`Store.connect()`; every function here is one short statement or transaction."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb

from percmusic_cli.store.arrays import ArrayRecord

Con = duckdb.DuckDBPyConnection


@dataclass(frozen=True)
class TrackRow:
    dataset: str
    track_id: str
    label: str
    rel_path: str
    path: str
    md5: str | None
    md5_status: str | None
    duration_s: float | None
    sample_rate: int | None
    channels: int | None
    status: str  # "ok" or "error"
    error: str | None
    # the source file as it was hashed: a different size or mtime means hash it again
    size: int | None = None
    mtime_ns: int | None = None


_TRACK_COLS = (
    "dataset, track_id, label, rel_path, path, md5, md5_status, duration_s, sample_rate, "
    "channels, status, error, size, mtime_ns"
)


def _dicts(cur: Con) -> list[dict[str, Any]]:
    names = [d[0] for d in cur.description or []]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def insert_rows(con: Con, statement: str, rows: Sequence[Sequence[Any]], chunk: int = 500) -> None:
    """`statement` ("INSERT ... INTO t (cols) VALUES") for many rows at once: one multi-row
    VALUES per chunk. DuckDB's executemany runs row by row, about 70 times slower."""
    for start in range(0, len(rows), chunk):
        part = rows[start : start + chunk]
        if not part:
            return
        group = "(" + ", ".join("?" * len(part[0])) + ")"
        con.execute(
            f"{statement} {', '.join([group] * len(part))}", [v for row in part for v in row]
        )


def query(con: Con, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
    """Rows as dicts (for status reports and the dashboard)."""
    return _dicts(con.execute(sql, list(params or [])))


# datasets and tracks -------------------------------------------------------------------


def upsert_dataset(con: Con, name: str, kind: str, root: str) -> None:
    con.execute(
        "INSERT INTO datasets (name, kind, root) VALUES (?, ?, ?) "
        "ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, root = excluded.root",
        [name, kind, root],
    )


def dataset_names(con: Con) -> list[str]:
    return [r[0] for r in con.execute("SELECT name FROM datasets ORDER BY name").fetchall()]


def dataset_kind(con: Con, name: str) -> str | None:
    row = con.execute("SELECT kind FROM datasets WHERE name = ?", [name]).fetchone()
    return str(row[0]) if row else None


def known_tracks(con: Con, dataset: str) -> dict[str, tuple[str, str]]:
    """track_id -> (path, status) of tracks already ingested, for resuming."""
    rows = con.execute(
        "SELECT track_id, path, status FROM tracks WHERE dataset = ?", [dataset]
    ).fetchall()
    return {r[0]: (r[1], r[2]) for r in rows}


def track_labels(con: Con, dataset: str) -> dict[str, tuple[str, str | None]]:
    """track_id -> (stored label, error) of every track of `dataset`."""
    rows = con.execute("SELECT track_id, label, error FROM tracks WHERE dataset = ?", [dataset])
    return {str(r[0]): (str(r[1]), r[2]) for r in rows.fetchall()}


def relabel_tracks(con: Con, dataset: str, labels: Mapping[str, str]) -> None:
    """Give tracks their new labels (a corrected manifest), in one transaction."""
    if not labels:
        return
    con.execute("BEGIN TRANSACTION")
    for track_id, label in labels.items():
        con.execute(
            "UPDATE tracks SET label = ? WHERE dataset = ? AND track_id = ?",
            [label, dataset, track_id],
        )
    con.execute("COMMIT")


def write_tracks(con: Con, rows: Iterable[TrackRow]) -> None:
    values = [
        [
            r.dataset,
            r.track_id,
            r.label,
            r.rel_path,
            r.path,
            r.md5,
            r.md5_status,
            r.duration_s,
            r.sample_rate,
            r.channels,
            r.status,
            r.error,
            r.size,
            r.mtime_ns,
        ]
        for r in rows
    ]
    if not values:
        return
    con.execute("BEGIN TRANSACTION")
    insert_rows(
        con,
        f"INSERT OR REPLACE INTO tracks ({_TRACK_COLS}) VALUES",
        values,
    )
    con.execute("COMMIT")


def tracks(con: Con, dataset: str, only_ok: bool = False) -> list[TrackRow]:
    where = " AND status = 'ok'" if only_ok else ""
    rows = con.execute(
        f"SELECT {_TRACK_COLS} FROM tracks WHERE dataset = ?{where} ORDER BY track_id", [dataset]
    ).fetchall()
    return [TrackRow(*row) for row in rows]


def fail_tracks(con: Con, dataset: str, reasons: dict[str, str]) -> None:
    """Mark tracks unusable with a one-line reason each (later steps skip them)."""
    if not reasons:
        return
    con.execute("BEGIN TRANSACTION")
    for track_id, reason in reasons.items():
        con.execute(
            "UPDATE tracks SET status = 'error', error = ? WHERE dataset = ? AND track_id = ?",
            [reason, dataset, track_id],
        )
    con.execute("COMMIT")


def all_tracks(con: Con) -> list[TrackRow]:
    rows = con.execute(f"SELECT {_TRACK_COLS} FROM tracks ORDER BY dataset, track_id").fetchall()
    return [TrackRow(*row) for row in rows]


def replace_problems(con: Con, dataset: str, problems: Iterable[tuple[str, str]]) -> None:
    con.execute("BEGIN TRANSACTION")
    con.execute("DELETE FROM ingest_problems WHERE dataset = ?", [dataset])
    rows = [[dataset, path, reason] for path, reason in dict(problems).items()]
    if rows:
        insert_rows(con, "INSERT INTO ingest_problems VALUES", rows)
    con.execute("COMMIT")


# splits ---------------------------------------------------------------------------------


def save_split(
    con: Con, dataset: str, name: str, params: Mapping[str, Any], members: Mapping[str, str]
) -> None:
    """Replace split `name` of `dataset` and make it the active one, in one transaction."""
    con.execute("BEGIN TRANSACTION")
    con.execute("DELETE FROM split_members WHERE dataset = ? AND split = ?", [dataset, name])
    con.execute("DELETE FROM splits WHERE dataset = ? AND name = ?", [dataset, name])
    con.execute("UPDATE splits SET active = false WHERE dataset = ?", [dataset])
    con.execute(
        "INSERT INTO splits (dataset, name, params, active) VALUES (?, ?, ?, true)",
        [dataset, name, json.dumps(params, sort_keys=True)],
    )
    insert_rows(
        con,
        "INSERT INTO split_members VALUES",
        [[dataset, name, tid, part] for tid, part in sorted(members.items())],
    )
    con.execute("COMMIT")


def active_split(con: Con, dataset: str) -> tuple[str, dict[str, str]] | None:
    row = con.execute("SELECT name FROM splits WHERE dataset = ? AND active", [dataset]).fetchone()
    if not row:
        return None
    members = con.execute(
        "SELECT track_id, part FROM split_members WHERE dataset = ? AND split = ?",
        [dataset, row[0]],
    ).fetchall()
    return str(row[0]), {m[0]: m[1] for m in members}


# arrays ---------------------------------------------------------------------------------


def record_array(con: Con, rec: ArrayRecord) -> None:
    con.execute(
        "INSERT OR REPLACE INTO arrays (path, kind, shape, dtype, sha256, nbytes) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [rec.path, rec.kind, rec.shape_json, rec.dtype, rec.sha256, rec.nbytes],
    )


def array_record(con: Con, path: str) -> ArrayRecord | None:
    row = con.execute(
        "SELECT path, kind, shape, dtype, sha256, nbytes FROM arrays WHERE path = ?", [path]
    ).fetchone()
    if not row:
        return None
    return ArrayRecord(row[0], row[1], tuple(json.loads(row[2])), row[3], row[4], int(row[5]))


def all_array_records(con: Con) -> list[ArrayRecord]:
    rows = con.execute("SELECT path, kind, shape, dtype, sha256, nbytes FROM arrays").fetchall()
    return [ArrayRecord(r[0], r[1], tuple(json.loads(r[2])), r[3], r[4], int(r[5])) for r in rows]


# feature sets ----------------------------------------------------------------------------


@dataclass(frozen=True)
class FeatureSet:
    feature_hash: str
    dataset: str
    config: dict[str, Any]
    n_tracks: int
    n_mels: int
    n_frames: int
    array_path: str
    track_ids: list[str]
    padded: list[bool]


def save_feature_set(con: Con, fs: FeatureSet, rec: ArrayRecord) -> None:
    """Record the array and its feature set together: both rows or neither."""
    con.execute("BEGIN TRANSACTION")
    record_array(con, rec)
    con.execute("DELETE FROM feature_tracks WHERE feature_hash = ?", [fs.feature_hash])
    con.execute(
        "INSERT OR REPLACE INTO feature_sets (feature_hash, dataset, config, n_tracks, n_mels, "
        "n_frames, array_path) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            fs.feature_hash,
            fs.dataset,
            json.dumps(fs.config, sort_keys=True),
            fs.n_tracks,
            fs.n_mels,
            fs.n_frames,
            fs.array_path,
        ],
    )
    insert_rows(
        con,
        "INSERT INTO feature_tracks VALUES",
        [
            [fs.feature_hash, i, tid, pad]
            for i, (tid, pad) in enumerate(zip(fs.track_ids, fs.padded, strict=True))
        ],
    )
    set_active_features(con, fs.dataset, fs.feature_hash)
    con.execute("COMMIT")


def feature_set(con: Con, feature_hash: str) -> FeatureSet | None:
    row = con.execute(
        "SELECT feature_hash, dataset, config, n_tracks, n_mels, n_frames, array_path "
        "FROM feature_sets WHERE feature_hash = ?",
        [feature_hash],
    ).fetchone()
    if not row:
        return None
    members = con.execute(
        "SELECT track_id, padded FROM feature_tracks WHERE feature_hash = ? ORDER BY row_index",
        [feature_hash],
    ).fetchall()
    return FeatureSet(
        row[0],
        row[1],
        json.loads(row[2]),
        row[3],
        row[4],
        row[5],
        row[6],
        [m[0] for m in members],
        [bool(m[1]) for m in members],
    )


def set_active_features(con: Con, dataset: str, feature_hash: str) -> None:
    con.execute(
        "INSERT INTO active_features (dataset, feature_hash) VALUES (?, ?) ON CONFLICT "
        "(dataset) DO UPDATE SET feature_hash = excluded.feature_hash, chosen_at = now()",
        [dataset, feature_hash],
    )


def latest_feature_hash(con: Con, dataset: str) -> str | None:
    """The feature set in use: the last one `features` made or reused for the dataset."""
    row = con.execute(
        "SELECT feature_hash FROM active_features WHERE dataset = ?", [dataset]
    ).fetchone()
    if row is None:
        row = con.execute(
            "SELECT feature_hash FROM feature_sets WHERE dataset = ? ORDER BY created_at DESC "
            "LIMIT 1",
            [dataset],
        ).fetchone()
    return str(row[0]) if row else None
