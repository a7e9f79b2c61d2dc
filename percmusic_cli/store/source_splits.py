"""The split a dataset's own metadata declares (a manifest's split column, FMA's
set.split), recorded at ingest so `filter --split manifest` can make it the active split."""

from __future__ import annotations

from collections.abc import Mapping

from percmusic_cli.store.tables import Con, insert_rows


def replace_source_split(con: Con, dataset: str, members: Mapping[str, str]) -> None:
    """The dataset's declared split becomes `members` (track_id -> part), in one transaction."""
    con.execute("BEGIN TRANSACTION")
    con.execute("DELETE FROM source_splits WHERE dataset = ?", [dataset])
    rows = [[dataset, tid, part] for tid, part in sorted(members.items())]
    if rows:
        insert_rows(con, "INSERT INTO source_splits (dataset, track_id, part) VALUES", rows)
    con.execute("COMMIT")


def source_split(con: Con, dataset: str) -> dict[str, str]:
    """track_id -> train | valid | test | excluded; empty when the source declared none."""
    rows = con.execute(
        "SELECT track_id, part FROM source_splits WHERE dataset = ?", [dataset]
    ).fetchall()
    return {str(r[0]): str(r[1]) for r in rows}
