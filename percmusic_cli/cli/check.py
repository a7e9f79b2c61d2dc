"""`percmusic check`."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from percmusic_cli import api
from percmusic_cli.cli import output
from percmusic_cli.cli.state import options
from percmusic_cli.render.safe import shown

# section of the report -> (title, style)
_SECTIONS = {
    "problems": ("problem", "red"),
    "repaired": ("repaired", "green"),
    "leftovers": ("leftover", "yellow"),
    "in_progress": ("in progress", "cyan"),
}


def check(
    repair: Annotated[
        bool,
        typer.Option(
            "--repair",
            help="Remove orphans and temporary files; mark broken artefacts for recomputation.",
        ),
    ] = False,
    sources: Annotated[
        bool,
        typer.Option(
            "--sources",
            help="Also hash every source audio file again: report changed or deleted ones.",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="JSON report on stdout.")] = False,
) -> None:
    """Verify the store: array files, checksums, orphans, temporary files, run inputs.

    Exit 2 when something is wrong. Leftovers of an interrupted command (temporary
    files, unrecorded arrays) are listed but do not fail the check; --repair removes them.
    Runs and predictions are never deleted.

    Example:

      percmusic check --repair

      percmusic check --sources
    """
    report = api.check(output.store(), repair=repair, wait_s=options().wait, sources=sources)
    output.emit(report, as_json, *_render(report))
    if not report.get("ok", False):
        raise typer.Exit(2)


def _render(report: dict[str, Any]) -> list[Table | Text]:
    if not report["exists"]:
        return [Text(shown(f"store {report['store']} is empty: nothing to check"))]
    rows = [(section, f) for section in _SECTIONS for f in report.get(section, [])]
    out: list[Table | Text] = []
    if rows:
        table = Table(title=f"check {report['store']}")
        for col in ("", "kind", "path", "detail"):
            table.add_column(col, overflow="fold")
        for section, f in rows:
            title, style = _SECTIONS[section]
            table.add_row(Text(title, style=style), f["kind"], f["path"], f["detail"])
        out.append(table)
    out.append(_verdict(report))
    return out


def _verdict(report: dict[str, Any]) -> Text:
    checked = ", ".join(f"{n} {name.replace('_', ' ')}" for name, n in report["checked"].items())
    if report["ok"]:
        return Text(f"ok: {checked}", style="green")
    n = len(report["problems"])
    hint = "" if report["repaired"] else "; `percmusic check --repair` fixes what it can"
    return Text(f"{n} problem{'s' * (n != 1)} ({checked}){hint}", style="bold red")


def register(app: typer.Typer) -> None:
    app.command("check")(check)
