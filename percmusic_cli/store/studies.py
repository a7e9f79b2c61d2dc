"""`reproduce` summaries (mean ± sd over seeds and folds, and the claims table), one row per
study configuration, so the dashboard can show the last one without recomputing it."""

from __future__ import annotations

import json
from typing import Any

from percmusic_cli.store import tables as t


def save_study(con: t.Con, study_id: str, result: dict[str, Any]) -> None:
    con.execute(
        "INSERT OR REPLACE INTO studies (study_id, dataset, seeds, folds, result) "
        "VALUES (?, ?, ?, ?, ?)",
        [study_id, result["dataset"], result["seeds"], result["folds"], json.dumps(result)],
    )


def latest_study(con: t.Con) -> dict[str, Any] | None:
    """The newest stored study, or None (also for stores from before migration 6)."""
    has = con.execute(
        # current_database(): this process may have other stores attached beside this one.
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'studies' "
        "AND table_catalog = current_database()"
    ).fetchone()
    if not has or not has[0]:
        return None
    row = con.execute("SELECT result FROM studies ORDER BY created_at DESC LIMIT 1").fetchone()
    return json.loads(row[0]) if row else None
