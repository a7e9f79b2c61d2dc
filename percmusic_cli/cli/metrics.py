"""`percmusic metrics`."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from percmusic_cli import api
from percmusic_cli.cli import output


def metrics(
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
) -> None:
    """The registered metrics: built-in ones and those installed packages add through the
    `percmusic.metrics` entry points, with their label, direction and whether they have a
    fast pairwise path (else the generic batched one). A broken plugin is listed with why.

    Examples:

      percmusic metrics

      percmusic metrics --json
    """
    rows = api.metrics()
    output.emit(rows, as_json, _table(rows))
    for row in rows:
        if row["problem"]:
            output.note(f"warning: {row['problem']}")


def _table(rows: list[dict[str, Any]]) -> Table:
    table = Table(title="metrics")
    for col in ("name", "origin", "label", "direction", "fast pairwise", "in study"):
        table.add_column(col)
    for r in rows:
        if r["problem"]:
            table.add_row(r["name"], r["origin"], "broken", "", "", "")
            continue
        table.add_row(
            r["name"],
            r["origin"],
            r["label"],
            r["direction"],
            "yes" if r["fast_pairwise"] else "no (generic)",
            "yes" if r["study"] else "",
        )
    return table


def register(app: typer.Typer) -> None:
    app.command("metrics")(metrics)
