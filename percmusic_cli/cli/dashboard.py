"""`percmusic dashboard`."""

from __future__ import annotations

import typer

from percmusic_cli.cli import output


def dashboard() -> None:
    """Open the Textual dashboard over the store (read-only).

    Example:

      percmusic dashboard
    """
    from percmusic_cli.tui.app import run_dashboard

    run_dashboard(output.store())


def register(app: typer.Typer) -> None:
    app.command("dashboard")(dashboard)
