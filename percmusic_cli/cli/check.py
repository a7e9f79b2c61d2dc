"""`percmusic check`."""

from __future__ import annotations

from typing import Annotated

import typer

from percmusic_cli import api
from percmusic_cli.cli import output
from percmusic_cli.cli.state import OPTIONS


def check(
    repair: Annotated[bool, typer.Option("--repair", help="Remove orphans and temporary "
                                         "files; mark broken artefacts for recomputation.")
                      ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="JSON report on stdout.")] = False,
) -> None:
    """Verify the store: array files, checksums, orphans, temporary files, run inputs.

    Exit 2 when something is wrong.

    Example:

      percmusic check --repair
    """
    report = api.check(output.store(), repair=repair, wait_s=OPTIONS.wait)
    output.emit(report, as_json, str(report))
    if not report.get("ok", False):
        raise typer.Exit(2)


def register(app: typer.Typer) -> None:
    app.command("check")(check)
