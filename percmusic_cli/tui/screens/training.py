"""Training: the autoencoders in the store with their loss and data, and the loss curve of
the selected one (textual-plotext). Refreshes itself while a model is still training."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.message import Message
from textual.timer import Timer
from textual.widgets import DataTable
from textual_plotext import PlotextPlot

from percmusic_cli import api
from percmusic_cli.render import fmt, safe
from percmusic_cli.tui import tables
from percmusic_cli.tui.base import DataScreen
from percmusic_cli.tui.messages import TrainingLoaded

LIVE_REFRESH_S = 5.0


def model_cells(m: dict[str, Any]) -> list[str | Text]:
    return [
        safe.text(m["model_id"]),
        safe.text(m.get("loss_label", m["loss"])),
        safe.text(m["data"]),
        f"{m['steps_done']}/{m['steps_total']}",
        safe.text(m["status"]),
        fmt.MISSING if m.get("wall_s") is None else f"{m['wall_s']:.0f}s",
        fmt.learned(m.get("loss_ratio")),
    ]


class TrainingScreen(DataScreen):
    """Models and loss curves."""

    DEFAULT_CSS = """
    TrainingScreen #models { height: auto; max-height: 8; }
    TrainingScreen #loss { height: 1fr; min-height: 8; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.models: list[dict[str, Any]] = []
        self.histories: dict[str, list[tuple[int, float]]] = {}
        self.selected: str | None = None
        self.timer: Timer | None = None

    def compose_body(self) -> ComposeResult:
        table: DataTable[str] = DataTable(cursor_type="row", zebra_stripes=True, id="models")
        table.add_columns("model", "loss", "data", "steps", "status", "time", "final/baseline")
        yield table
        yield PlotextPlot(id="loss")

    def fetch(self) -> Message:
        labels = api.metric_labels()
        models = [
            {**m, "loss_label": labels.get(m["loss"], m["loss"])} for m in api.models(self.store)
        ]
        return TrainingLoaded(
            models, {m["model_id"]: api.loss_history(self.store, m["model_id"]) for m in models}
        )

    def on_training_loaded(self, message: TrainingLoaded) -> None:
        self.loaded()
        self.models, self.histories = message.models, message.histories
        table = self.query_one("#models", DataTable)
        tables.fill(table, [(model_cells(m), m["model_id"]) for m in self.models])
        ids = [m["model_id"] for m in self.models]
        if self.selected in ids:
            table.move_cursor(row=ids.index(self.selected))
        self.selected = self.selected if self.selected in ids else (ids[0] if ids else None)
        self.draw()
        self.keep_live(any(m["status"] == "training" for m in self.models))

    def keep_live(self, live: bool) -> None:
        if live and self.timer is None:
            self.timer = self.set_interval(LIVE_REFRESH_S, self.action_reload)
        elif not live and self.timer is not None:
            self.timer.stop()
            self.timer = None

    @on(DataTable.RowHighlighted, "#models")
    def model_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value and event.row_key.value != self.selected:
            self.selected = event.row_key.value
            self.draw()

    def draw(self) -> None:
        widget = self.query_one("#loss", PlotextPlot)
        plt = widget.plt
        plt.clear_data()
        plt.clear_figure()
        model = next((m for m in self.models if m["model_id"] == self.selected), None)
        if model is None:
            plt.title("no trained models yet: run `percmusic train`")
        else:
            history = self.histories.get(model["model_id"], [])
            plt.plot([s for s, _ in history], [v for _, v in history], marker="braille")
            if model.get("baseline_loss") is not None:
                # The loss of the best constant output: a curve that stays near it learned nothing.
                plt.hline(float(model["baseline_loss"]), "red")
            plt.title(
                f"{model['model_id']}: {model.get('loss_label', model['loss'])} "
                f"loss on {model['data']}"
            )
            plt.xlabel("step")
        widget.refresh()
