"""`percmusic dashboard`."""

from __future__ import annotations

import sys

import typer

from percmusic_cli.cli import output
from percmusic_cli.errors import UsageError


def dashboard() -> None:
    """Open the Textual dashboard over the store (read-only).

    Example:

      percmusic dashboard
    """
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        # Textual would write escape codes into the pipe forever.
        raise UsageError("dashboard needs a terminal: stdin and stdout must not be redirected")
    from percmusic_cli.tui.app import run_dashboard

    run_dashboard(output.store())


def register(app: typer.Typer) -> None:
    app.command("dashboard")(dashboard)
