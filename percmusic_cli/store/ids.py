"""Run and model ids for shell completion: one read-only query, nothing else imported
(no numpy, torch or typer), so a TAB answers in well under 0.3 s."""

from __future__ import annotations

from pathlib import Path

import duckdb

from percmusic_cli.store.db import DB_NAME, locate

QUERIES = {
    "runs": "SELECT run_id FROM runs ORDER BY run_id",
    "models": "SELECT model_id FROM models ORDER BY model_id",
}


def stored_ids(kind: str, store: str | Path | None = None) -> list[str]:
    """Ids of `kind` ("runs" or "models") in the store at `store`, $PERCMUSIC_STORE or
    ./store; empty when there is no store or it cannot be read right now (a writer holds
    it): a completion offers nothing rather than failing."""
    db = locate(store) / DB_NAME
    if kind not in QUERIES or not db.is_file():
        return []
    try:
        with duckdb.connect(str(db), read_only=True) as con:
            return [str(row[0]) for row in con.execute(QUERIES[kind]).fetchall()]
    except duckdb.Error:
        return []
