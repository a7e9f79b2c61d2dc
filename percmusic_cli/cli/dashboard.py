"""`percmusic dashboard`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from percmusic_cli.cli import output
from percmusic_cli.errors import UsageError


def dashboard(
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Folder for screenshots (ctrl+s; default: STORE/figures)."),
    ] = None,
) -> None:
    """Open the Textual dashboard over the store (read-only).

    Examples:

      percmusic dashboard

      percmusic dashboard --out paper/screens
    """
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        # Textual would write escape codes into the pipe forever.
        raise UsageError("dashboard needs a terminal: stdin and stdout must not be redirected")
    from percmusic_cli.tui.app import run_dashboard

    store = output.session().store
    store.exists()  # a mistyped --store is "no store at PATH" before the screen opens
    run_dashboard(store, out)


def register(app: typer.Typer) -> None:
    app.command("dashboard")(dashboard)
