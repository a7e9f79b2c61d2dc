"""Distance matrices in the store: tiles as resumable parts, the assembled matrix as one
checksummed array, and the per-group distribution statistics (the study's Fig. 1)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from percmusic_cli.store import arrays as a
from percmusic_cli.store import tables as t
from percmusic_cli.store.db import Store


@dataclass(frozen=True)
class DistanceSet:
    dist_hash: str
    metric: str
    feature_hash: str
    rows_part: str
    cols_part: str
    config: dict[str, Any]
    n_rows: int
    n_cols: int
    array_path: str
    device: str | None = None  # where it was computed, once saved (None: not yet)


class StoreTileSink:
    """Tiles of one matrix as parts of its final array path (see store.arrays)."""

    def __init__(self, store: Store, rel_path: str) -> None:
        self.root = store.root
        self.rel_path = rel_path

    def has(self, key: str) -> bool:
        return a.has_part(self.root, self.rel_path, key)

    def load(self, key: str) -> np.ndarray:
        return a.read_part(self.root, self.rel_path, key)["d"]

    def save(self, key: str, tile: np.ndarray) -> None:
        a.write_part(self.root, self.rel_path, key, {"d": tile})


def find(con: t.Con, dist_hash: str) -> DistanceSet | None:
    row = con.execute(
        "SELECT dist_hash, metric, feature_hash, rows_part, cols_part, config, n_rows, n_cols, "
        "array_path, device FROM distance_sets WHERE dist_hash = ?",
        [dist_hash],
    ).fetchone()
    if not row:
        return None
    return DistanceSet(
        row[0], row[1], row[2], row[3], row[4], json.loads(row[5]), row[6], row[7], row[8], row[9]
    )


def save(store: Store, ds: DistanceSet, matrix: np.ndarray, device: str, wall_s: float) -> None:
    """Write the assembled matrix, record it, then drop its tiles."""
    rec = a.write_array(store.root, ds.array_path, matrix, kind="distances")
    with store.connect() as con:
        con.execute("BEGIN TRANSACTION")
        t.record_array(con, rec)
        con.execute(
            "INSERT OR REPLACE INTO distance_sets (dist_hash, metric, feature_hash, rows_part, "
            "cols_part, config, n_rows, n_cols, array_path, device, wall_s) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            [
                ds.dist_hash,
                ds.metric,
                ds.feature_hash,
                ds.rows_part,
                ds.cols_part,
                json.dumps(ds.config, sort_keys=True),
                ds.n_rows,
                ds.n_cols,
                ds.array_path,
                device,
                wall_s,
            ],
        )
        con.execute("COMMIT")
    a.remove_parts(store.root, ds.array_path)


def load(store: Store, ds: DistanceSet) -> np.ndarray:
    with store.connect(read_only=True) as con:
        rec = t.array_record(con, ds.array_path)
    if rec is None:
        from percmusic_cli.errors import ArrayIntegrityError

        raise ArrayIntegrityError(f"distance set {ds.dist_hash} has no array record")
    return a.read_array(store.root, rec)


def save_stats(store: Store, dist_hash: str, metric: str, stats: list[dict[str, Any]]) -> None:
    with store.connect() as con:
        con.execute("BEGIN TRANSACTION")
        con.execute("DELETE FROM distance_stats WHERE dist_hash = ?", [dist_hash])
        t.insert_rows(
            con,
            "INSERT INTO distance_stats VALUES",
            [
                [
                    dist_hash,
                    metric,
                    s["group"],
                    s["n"],
                    json.dumps({k: v for k, v in s.items() if k not in ("group", "n", "density")}),
                    json.dumps(s["density"]),
                ]
                for s in stats
            ],
        )
        con.execute("COMMIT")


def load_stats(con: t.Con, metric: str | None = None) -> list[dict[str, Any]]:
    where = "WHERE metric = ?" if metric else ""
    rows = t.query(
        con,
        f"SELECT dist_hash, metric, grp, n, quantiles, density FROM "
        f"distance_stats {where} ORDER BY metric, grp = 'all', grp",
        [metric] if metric else [],
    )
    out = []
    for r in rows:
        out.append(
            {
                "dist_hash": r["dist_hash"],
                "metric": r["metric"],
                "group": r["grp"],
                "n": r["n"],
                **json.loads(r["quantiles"]),
                "density": json.loads(r["density"]),
            }
        )
    return out


def summaries(con: t.Con, feature_hash: str | None = None) -> list[dict[str, Any]]:
    where = "WHERE feature_hash = ?" if feature_hash else ""
    return t.query(
        con,
        f"SELECT dist_hash, metric, rows_part, cols_part, n_rows, n_cols, "
        f"device, wall_s, created_at::VARCHAR AS created_at FROM distance_sets "
        f"{where} ORDER BY created_at",
        [feature_hash] if feature_hash else [],
    )
