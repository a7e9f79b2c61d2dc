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
        if row.get("printed"):
            output.note(
                f"note: metric plugin {row['name']!r} printed while loading (kept off stdout)"
            )


def _table(rows: list[dict[str, Any]]) -> Table:
    table = Table(title="metrics")
    cols = ("name", "origin", "label", "direction", "symmetric", "fast pairwise", "in study")
    for col in (*cols, "load s"):
        table.add_column(col)
    for r in rows:
        took = "" if r.get("import_s") is None else f"{r['import_s']:.3f}"
        if r["problem"]:
            table.add_row(r["name"], r["origin"], "broken", "", "", "", "", took)
            continue
        table.add_row(
            r["name"],
            r["origin"],
            r["label"],
            r["direction"],
            "yes" if r["symmetric"] else "no (averaged)",
            "yes" if r["fast_pairwise"] else "no (generic)",
            "yes" if r["study"] else "",
            took,
        )
    return table


def register(app: typer.Typer) -> None:
    app.command("metrics")(metrics)
