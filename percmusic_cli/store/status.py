"""Status queries: what the store holds, as plain dicts (for `status` and the dashboard)."""

from __future__ import annotations

from typing import Any

from percmusic_cli.store import tables as t
from percmusic_cli.store.db import Store


def store_status(store: Store, with_errors: bool = False) -> dict[str, Any]:
    if not store.exists():
        return {"store": str(store.root), "exists": False, "datasets": []}
    with store.connect(read_only=True) as con:
        datasets = t.query(con, "SELECT name, kind, root FROM datasets ORDER BY name")
        for ds in datasets:
            _describe(con, ds, with_errors)
        counts = {
            name: t.query(con, f"SELECT count(*) AS n FROM {name}")[0]["n"]
            for name in ("distance_sets", "runs", "models", "latent_sets")
        }
    return {"store": str(store.root), "exists": True, "datasets": datasets, "computed": counts}


def _describe(con: t.Con, ds: dict[str, Any], with_errors: bool) -> None:
    name = ds["name"]
    ds["tracks"] = t.query(
        con,
        "SELECT status, count(*) AS n FROM tracks WHERE dataset = ? GROUP BY status "
        "ORDER BY status",
        [name],
    )
    ds["md5"] = t.query(
        con,
        "SELECT md5_status, count(*) AS n FROM tracks WHERE dataset = ? AND md5_status "
        "IS NOT NULL GROUP BY md5_status ORDER BY md5_status",
        [name],
    )
    split = t.active_split(con, name)
    ds["split"] = split[0] if split else None
    ds["labels"] = _label_counts(con, name, split[0] if split else None)
    ds["feature_sets"] = t.query(
        con,
        "SELECT fs.feature_hash, n_tracks, n_mels, n_frames, "
        "fs.created_at::VARCHAR AS created_at, af.feature_hash IS NOT NULL AS active "
        "FROM feature_sets fs LEFT JOIN active_features af ON af.dataset = fs.dataset "
        "AND af.feature_hash = fs.feature_hash WHERE fs.dataset = ? ORDER BY fs.created_at",
        [name],
    )
    ds["problems"] = t.query(
        con, "SELECT count(*) AS n FROM ingest_problems WHERE dataset = ?", [name]
    )[0]["n"]
    if with_errors:
        ds["errors"] = t.query(
            con,
            "SELECT path, error AS reason FROM tracks WHERE dataset = ? AND status <> 'ok' "
            "UNION ALL SELECT path, reason FROM ingest_problems WHERE dataset = ? ORDER BY path",
            [name, name],
        )


def _label_counts(con: t.Con, dataset: str, split: str | None) -> list[dict[str, Any]]:
    """Per label: ok tracks, and per part of the active split."""
    return t.query(
        con,
        "SELECT tr.label, count(*) AS ok, "
        "count(*) FILTER (WHERE sm.part = 'train') AS train, "
        "count(*) FILTER (WHERE sm.part = 'valid') AS valid, "
        "count(*) FILTER (WHERE sm.part = 'test') AS test, "
        "count(*) FILTER (WHERE sm.part = 'excluded') AS excluded "
        "FROM tracks tr LEFT JOIN split_members sm ON sm.dataset = tr.dataset "
        "AND sm.track_id = tr.track_id AND sm.split = ? "
        "WHERE tr.dataset = ? AND tr.status = 'ok' GROUP BY tr.label ORDER BY tr.label",
        [split, dataset],
    )
