"""Two or more runs side by side: headline numbers, then F1 per class in one column each."""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Static

from percmusic_cli import api
from percmusic_cli.errors import PercmusicError
from percmusic_cli.render import fmt, runs_table, safe
from percmusic_cli.render.compare import compare_tables
from percmusic_cli.tui.base import DataScreen
from percmusic_cli.tui.messages import CompareLoaded


def headline(run: dict[str, Any]) -> dict[str, Any]:
    """The run detail as a runs_table row (see render.RUN_KEYS)."""
    res = run["result"]
    ev, curve = res["evaluation"], res["curve"]
    return {
        "run_id": run["run_id"],
        "kind": run["kind"],
        "metric": run["name"],
        "param": curve["chosen"],
        "param_name": curve["param"],
        "method": curve["method"],
        "valid_f1": res.get("valid_f1"),
        "test_f1": ev["f1_weighted"],
        "test_f1_low": ev["f1_weighted_ci"]["low"],
        "test_f1_high": ev["f1_weighted_ci"]["high"],
        "accuracy": ev["accuracy"],
        "created_at": run.get("created_at"),
    }


def per_class_side_by_side(runs: list[dict[str, Any]]) -> Table:
    """Rows: classes; columns: runs; the best F1 of each row in bold."""
    table = Table(
        box=box.SIMPLE_HEAD, padding=(0, 1, 0, 0), title="test F1 per class", title_justify="left"
    )
    table.add_column("class", no_wrap=True)
    scores: list[dict[str, float | None]] = []
    for run in runs:
        # By run, not metric: two runs of one metric (another split, k) stay apart.
        table.add_column(safe.text(run["run_id"]), justify="right", no_wrap=True)
        scores.append({c["label"]: c["f1"] for c in run["result"]["evaluation"]["per_class"]})
    labels = sorted({lab for s in scores for lab in s})
    for lab in labels:
        values = [s.get(lab) for s in scores]
        best = max((v for v in values if v is not None), default=None)
        table.add_row(
            safe.text(lab),
            *(
                f"[bold]{fmt.score(v)}[/]"
                if v is not None and v == best
                else fmt.score(v, na="n/a")
                for v in values
            ),
        )
    table.add_section()
    table.add_row("weighted", *(fmt.score(r["result"]["evaluation"]["f1_weighted"]) for r in runs))
    return table


class CompareScreen(DataScreen):
    """Marked runs side by side."""

    BINDINGS = [Binding("escape", "app.pop_screen", "Back")]  # noqa: RUF012

    def __init__(self, run_ids: list[str]) -> None:
        super().__init__()
        self.run_ids = run_ids
        self.runs: list[dict[str, Any]] = []
        self.paired: dict[str, Any] | None = None

    def compose_body(self) -> ComposeResult:
        with VerticalScroll():
            yield Static("reading runs…", id="compare")

    def fetch(self) -> Message:
        runs = [api.run_detail(self.store, r) for r in self.run_ids]
        try:
            paired = api.compare(self.store, [r["run_id"] for r in runs])
        except PercmusicError as exc:  # other test tracks: say so instead of the panel
            return CompareLoaded(runs, None, str(exc))
        return CompareLoaded(runs, paired)

    def on_compare_loaded(self, message: CompareLoaded) -> None:
        self.loaded()
        self.runs = message.runs
        self.paired = message.paired
        rows = [headline(r) for r in self.runs]
        paired: list[RenderableType] = []
        if message.paired:
            paired.extend(compare_tables(message.paired)[1:])
        else:
            paired.append(Text(f"paired comparison: {message.paired_error}"))
        self.query_one("#compare", Static).update(
            Group(
                runs_table(rows, title=f"{len(rows)} runs side by side", width=self.size.width),
                per_class_side_by_side(self.runs),
                *paired,
            )
        )
