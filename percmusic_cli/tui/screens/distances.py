"""Distances: per metric, violins of the pairwise distances within each label and over all
tracks (the study's Fig. 1), with their quantiles; switch metrics with m or the tabs."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Static, Tab, Tabs

from percmusic_cli import api
from percmusic_cli.config import METRICS
from percmusic_cli.experiments.stats import distance_summary
from percmusic_cli.render import distance_summary_table, safe, violin_plot
from percmusic_cli.tui.base import DataScreen
from percmusic_cli.tui.messages import DistancesLoaded
from percmusic_cli.tui.widgets import TextPlot

LABELS = {"mse": "MSE", "msssim": "1 - MS-SSIM", "nlpd": "NLPD"}


def violin_height(n_groups: int) -> int:
    """Title, three lines per group (mirrored violins), the axis."""
    return 3 * n_groups + 2


class DistancesScreen(DataScreen):
    """Fig. 1, per metric."""

    BINDINGS = [  # noqa: RUF012
        Binding("m", "next_metric", "Next metric"),
        Binding("d", "next_dataset", "Dataset"),
        Binding("r", "reload", "Reload"),
    ]
    DEFAULT_CSS = """
    DistancesScreen #violins { height: 10; }
    DistancesScreen #dist-note { color: $text-muted; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.dataset: str | None = None
        self.groups: dict[str, Any] = {}
        self.datasets: list[str] = []
        self.metric = METRICS[0]

    def compose_body(self) -> ComposeResult:
        yield Tabs(*(Tab(LABELS[m], id=m) for m in METRICS), id="metrics")
        with VerticalScroll(id="dist-scroll"):
            yield TextPlot(id="violins")
            yield Static(id="dist-table")
            yield Static(id="dist-note")

    def fetch(self) -> Message:
        names = api.datasets(self.store)
        if not names:
            return DistancesLoaded(None)
        name = self.dataset if self.dataset in names else names[0]
        return DistancesLoaded(
            name, {m: api.distance_values(self.store, name, m) for m in METRICS}, names
        )

    def on_distances_loaded(self, message: DistancesLoaded) -> None:
        self.loaded()
        self.dataset, self.groups = message.dataset, message.groups
        self.datasets = message.datasets
        self.show()

    @on(Tabs.TabActivated, "#metrics")
    def tab_changed(self, event: Tabs.TabActivated) -> None:
        if event.tab.id and event.tab.id != self.metric:
            self.metric = event.tab.id
            self.show()

    def action_next_metric(self) -> None:
        self.metric = METRICS[(METRICS.index(self.metric) + 1) % len(METRICS)]
        self.query_one("#metrics", Tabs).active = self.metric
        self.show()

    def action_next_dataset(self) -> None:
        names = self.datasets
        if len(names) > 1 and self.dataset in names:
            self.dataset = names[(names.index(self.dataset) + 1) % len(names)]
            self.action_reload()

    def show(self) -> None:
        plot = self.query_one("#violins", TextPlot)
        table = self.query_one("#dist-table", Static)
        groups = self.groups.get(self.metric)
        title = f"{self.dataset}: {LABELS[self.metric]} between tracks, per label and all"
        if not groups:
            plot.styles.height = 3
            plot.set_draw(None)
            plot.update(
                safe.text(
                    f"No all x all {LABELS[self.metric]} matrix for "
                    f"{self.dataset or 'this store'}: run `percmusic distances stats`."
                )
            )
            table.update("")
            return
        plot.styles.height = violin_height(len(groups))
        plot.set_draw(lambda w, h: violin_plot(groups, width=w, height=h, title=title))
        table.update(distance_summary_table(distance_summary(groups)))
        self.query_one("#dist-note", Static).update(
            "Wider violins within a label mean that label's tracks are less alike under the "
            "metric; the study finds NLPD spreads within-genre distances more than MSE."
        )
