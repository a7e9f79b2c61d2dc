"""One run: its scores, the confusion matrix as a shaded grid (the study's Fig. 3 for KNN,
Fig. 4 for autoencoder latents), per-class F1 bars, the selection curve (Fig. 2: validation
weighted F1 against k, the chosen k marked) and the misclassified test tracks."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Static, TabbedContent, TabPane

from percmusic_cli import api
from percmusic_cli.render import confusion_table, curve_plot, evaluation_table, safe
from percmusic_cli.tui import tables
from percmusic_cli.tui.base import DataScreen
from percmusic_cli.tui.messages import RunLoaded
from percmusic_cli.tui.widgets import TextPlot, f1_bars

TABS = ("summary", "confusion", "f1", "curve", "errors")


def misclassified(run: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in run.get("predictions") or [] if p["true_label"] != p["pred_label"]]


def provenance(run: dict[str, Any]) -> Text:
    text = Text()
    for key in (
        "run_id",
        "kind",
        "name",
        "dataset",
        "split",
        "feature_hash",
        "seed",
        "device",
        "wall_s",
        "git_rev",
        "created_at",
    ):
        text.append(f"{key:>12} ", style="bold")
        text.append(f"{run.get(key)}\n")
    return text


def classifier_name(run: dict[str, Any]) -> str:
    """The run kind's label in the classifier registry ("KNN", "LR", ...), else the kind."""
    return api.classifier_labels().get(run["kind"], run["kind"])


class RunDetailScreen(DataScreen):
    """One run in tabs."""

    BINDINGS = [  # noqa: RUF012
        Binding("escape", "app.pop_screen", "Back"),
        Binding("s", "tab('summary')", "Summary"),
        Binding("m", "tab('confusion')", "Confusion"),
        Binding("f", "tab('f1')", "F1"),
        Binding("k", "tab('curve')", "Curve"),
        Binding("x", "tab('errors')", "Errors"),
    ]
    DEFAULT_CSS = """
    RunDetailScreen TabPane { padding: 0 1; }
    RunDetailScreen #errors-table { height: 1fr; }
    """

    def __init__(self, run_id: str) -> None:
        super().__init__()
        self.run_id = run_id
        self.run: dict[str, Any] | None = None

    def compose_body(self) -> ComposeResult:
        with TabbedContent(id="tabs"):
            with TabPane("Summary", id="summary"), VerticalScroll():
                yield Static(f"reading run {self.run_id}…", id="summary-text")
            with TabPane("Confusion", id="confusion"), VerticalScroll():
                yield Static(id="confusion-grid")
            with TabPane("Per-class F1", id="f1"), VerticalScroll():
                yield Static(id="f1-bars")
            with TabPane("Selection curve", id="curve"):
                yield TextPlot(id="curve-plot")
            with TabPane("Misclassified", id="errors"):
                yield DataTable(cursor_type="row", zebra_stripes=True, id="errors-table")

    def fetch(self) -> Message:
        return RunLoaded(api.run_detail(self.store, self.run_id))

    def action_tab(self, tab: str) -> None:
        self.query_one("#tabs", TabbedContent).active = tab

    def on_run_loaded(self, message: RunLoaded) -> None:
        self.loaded()
        self.run = run = message.run
        self.title = safe.shown(run["run_id"])
        result = api.classifier_result(run)
        ev, width = result.evaluation, max(60, self.size.width - 4)
        self.query_one("#summary-text", Static).update(
            Group(
                evaluation_table(result, f"{run['kind']} {run['name']} on {run['dataset']}"),
                provenance(run),
            )
        )
        self.query_one("#confusion-grid", Static).update(
            confusion_table(
                ev, title=f"{classifier_name(run)} {run['name']}: confusion on test", width=width
            )
        )
        self.query_one("#f1-bars", Static).update(
            Group(
                safe.text(f"{run['name']}: test F1 per class", style="bold"),
                f1_bars(ev.per_class, width),
            )
        )
        self.query_one("#curve-plot", TextPlot).set_draw(
            lambda w, h: curve_plot(result.curve, width=w, height=h)
        )
        self.fill_errors(run)

    def fill_errors(self, run: dict[str, Any]) -> None:
        table = self.query_one("#errors-table", DataTable)
        rows: list[tables.Row] = []
        for p in misclassified(run):
            near = ", ".join((p.get("neighbours") or [])[:3])
            values = (p["track_id"], p["true_label"], p["pred_label"], near)
            rows.append(([safe.text(v) for v in values], None))
        headers = ("track", "true", "predicted", "nearest (KNN)")
        tables.fill(table, rows, [(h, h) for h in headers])
