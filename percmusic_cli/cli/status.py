"""`percmusic status`."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from percmusic_cli import api
from percmusic_cli.cli import output
from percmusic_cli.render import safe


def status(
    errors: Annotated[bool, typer.Option("--errors", help="List every failed file.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
) -> None:
    """Datasets, tracks per label and split, feature sets, errors, what has been computed.

    Example:

      percmusic status --errors
    """
    info = api.status(output.store(), with_errors=errors)
    if not info["exists"]:
        output.emit(info, as_json, f"store {info['store']} is empty: run `percmusic ingest`")
        return
    output.emit(
        info, as_json, *[_dataset_table(ds) for ds in info["datasets"]], _computed(info["computed"])
    )


def _dataset_table(ds: dict[str, Any]) -> Table:
    tracks = ", ".join(f"{r['status']} {r['n']}" for r in ds["tracks"])
    md5 = ", ".join(f"{r['md5_status']} {r['n']}" for r in ds["md5"])
    caption = f"tracks: {tracks}" + (f"; md5: {md5}" if md5 else "")
    caption += f"; split: {safe.shown(ds['split'] or 'none (run percmusic filter)')}"
    caption += f"; feature sets: {len(ds['feature_sets'])}; problems: {ds['problems']}"
    table = Table(title=safe.title(f"{ds['name']} ({ds['kind']})"), caption=caption)
    for col in ("label", "ok", "train", "valid", "test", "excluded"):
        table.add_column(col, justify="left" if col == "label" else "right")
    for row in ds["labels"]:
        counts = (str(row[c]) for c in ("ok", "train", "valid", "test", "excluded"))
        table.add_row(safe.text(row["label"]), *counts)
    for err in ds.get("errors", []):
        table.add_row(safe.text(err["path"], style="red"), err["reason"], "", "", "", "")
    return table


def _computed(counts: dict[str, int]) -> Table:
    table = Table(title="computed", show_header=False)
    for name, n in counts.items():
        table.add_row(name.replace("_", " "), str(n))
    return table


def register(app: typer.Typer) -> None:
    app.command("status")(status)
