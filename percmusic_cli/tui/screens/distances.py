"""Distances: per metric, first the pooled comparison (every within-genre pair against
every between-genre pair, with the ratio of means and the AUC), which fits an 80 x 24
terminal; below it, the violins within each label and over all tracks (the study's
Fig. 1) with their quantiles, scrolled with j / k. Switch metrics with m or the tabs.

It draws the statistics `percmusic distances stats` stored (the same rows that
`distances stats --plot` draws), read through `api`; it never recomputes them."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Static, Tab, Tabs

from percmusic_cli import api
from percmusic_cli.render import distance_summary_table, safe
from percmusic_cli.render.plots import density_violins
from percmusic_cli.tui.base import DataScreen
from percmusic_cli.tui.messages import DistancesLoaded
from percmusic_cli.tui.widgets import TextPlot


def violin_height(n_groups: int) -> int:
    """Title, three lines per group (mirrored violins), the axis."""
    return 3 * n_groups + 2


class DistancesScreen(DataScreen):
    """Fig. 1, per metric."""

    BINDINGS = [  # noqa: RUF012
        Binding("m", "next_metric", "Metric"),
        Binding("j", "scroll_genres(3)", "Genres", key_display="j/k"),
        Binding("k", "scroll_genres(-3)", "Up", show=False),
        Binding("d", "next_dataset", "Dataset"),
    ]
    DEFAULT_CSS = """
    DistancesScreen #pooled { height: 8; }
    DistancesScreen #dist-scroll { height: 1fr; }
    DistancesScreen #violins { height: 10; }
    DistancesScreen #dist-note { color: $text-muted; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.dataset: str | None = None
        self.groups: dict[str, list[dict[str, Any]]] = {}
        self.datasets: list[str] = []
        # Names need no metric code; the labels come with the first load.
        self.metrics: tuple[str, ...] = api.metric_names()
        self.labels: dict[str, str] = {}
        self.metric = self.metrics[0]

    def label(self, metric: str) -> str:
        return self.labels.get(metric, metric)

    def compose_body(self) -> ComposeResult:
        yield Tabs(*(Tab(safe.text(m), id=m) for m in self.metrics), id="metrics")
        yield TextPlot(id="pooled")
        with VerticalScroll(id="dist-scroll"):
            yield TextPlot(id="violins")
            yield Static(id="dist-table")
            yield Static(id="dist-note")

    def fetch(self) -> Message:
        labels = api.metric_labels()
        names = api.datasets(self.store)
        if not names:
            return DistancesLoaded(None, labels=labels)
        name = self.dataset if self.dataset in names else names[0]
        return DistancesLoaded(name, api.distance_stats_by_metric(self.store, name), names, labels)

    def on_distances_loaded(self, message: DistancesLoaded) -> None:
        self.loaded()
        self.dataset, self.groups = message.dataset, message.groups
        self.datasets = message.datasets
        self.labels = message.labels
        for tab in self.query(Tab):
            if tab.id in self.labels:
                tab.label = safe.text(self.labels[tab.id])
        self.show()

    @on(Tabs.TabActivated, "#metrics")
    def tab_changed(self, event: Tabs.TabActivated) -> None:
        if event.tab.id and event.tab.id != self.metric:
            self.metric = event.tab.id
            self.show()

    def action_next_metric(self) -> None:
        self.metric = self.metrics[(self.metrics.index(self.metric) + 1) % len(self.metrics)]
        self.query_one("#metrics", Tabs).active = self.metric
        self.show()

    def action_next_dataset(self) -> None:
        names = self.datasets
        if len(names) > 1 and self.dataset in names:
            self.dataset = names[(names.index(self.dataset) + 1) % len(names)]
            self.action_reload()

    def action_scroll_genres(self, lines: int) -> None:
        self.query_one("#dist-scroll", VerticalScroll).scroll_relative(y=lines, animate=False)

    def show_pooled(self, rows: list[dict[str, Any]]) -> None:
        plot = self.query_one("#pooled", TextPlot)
        if not rows:
            plot.display = False
            return
        plot.display = True
        # "pooled within" -> "within": the title already says these are the pooled pairs.
        rows = [{**r, "group": str(r["group"]).removeprefix("pooled ")} for r in rows]
        first = rows[0]
        title = (
            f"{self.label(self.metric)}: within vs between genres, ratio of means "
            f"{first.get('ratio', float('nan')):.2f}, AUC {first.get('auc', float('nan')):.2f}"
        )
        plot.set_draw(lambda w, h: density_violins(rows, width=w, height=h, title=title))

    def show(self) -> None:
        # A new metric starts at the top of its genres.
        self.query_one("#dist-scroll", VerticalScroll).scroll_home(animate=False)
        stored = self.groups.get(self.metric) or []
        self.show_pooled([r for r in stored if r.get("pooled")])
        rows = [r for r in stored if not r.get("pooled")]
        plot = self.query_one("#violins", TextPlot)
        table = self.query_one("#dist-table", Static)
        label = self.label(self.metric)
        title = f"{self.dataset}: {label} between tracks, per label and all"
        if not rows:
            plot.styles.height = 3
            plot.set_draw(None)
            plot.update(
                safe.text(
                    f"No stored {label} statistics for {self.dataset or 'this store'}: "
                    f"run `percmusic distances stats --metric {self.metric}`."
                )
            )
            table.update("")
            return
        plot.styles.height = violin_height(len(rows))
        plot.set_draw(lambda w, h: density_violins(rows, width=w, height=h, title=title))
        table.update(distance_summary_table(rows))
        self.query_one("#dist-note", Static).update(
            "Wider violins within a label mean that label's tracks are less alike under the "
            "metric; the study finds NLPD spreads within-genre distances more than MSE."
        )
