"""Claims: the last `reproduce` study's table (mean ± sd over seeds and folds) and its
claims as tested rows (difference, CI, Holm p, verdict, loss ratio)."""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group, RenderableType
from rich.measure import Measurement
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import ScrollableContainer
from textual.message import Message
from textual.widgets import Static

from percmusic_cli import api
from percmusic_cli.render.study import reproduce_tables
from percmusic_cli.tui.base import DataScreen
from percmusic_cli.tui.messages import ClaimsLoaded


def natural_width(renderable: RenderableType) -> int:
    """The columns `renderable` needs with no cell cut."""
    console = Console(width=10_000)
    return Measurement.get(console, console.options, renderable).maximum


class ClaimsScreen(DataScreen):
    """The study's claims."""

    # The tables at their own width (never cut to "…" inside a CI); a narrow terminal
    # scrolls sideways instead.
    DEFAULT_CSS = """
    ClaimsScreen #claims-scroll { overflow-x: auto; overflow-y: auto; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.study: dict[str, Any] | None = None
        self.shown: list[Any] = []  # the rendered tables, for the tests

    def compose_body(self) -> ComposeResult:
        with ScrollableContainer(id="claims-scroll"):
            yield Static("reading the last study…", id="claims")

    def fetch(self) -> Message:
        return ClaimsLoaded(api.latest_study(self.store))

    def on_claims_loaded(self, message: ClaimsLoaded) -> None:
        self.loaded()
        self.study = message.study
        widget = self.query_one("#claims", Static)
        if message.study is None or "claims" not in message.study:
            widget.update(Text("no study yet: run `percmusic reproduce --quick`"))
            return
        self.shown = reproduce_tables(message.study)
        group = Group(*self.shown)
        widget.styles.width = max(natural_width(group), self.size.width - 2)
        widget.update(group)
