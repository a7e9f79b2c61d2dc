"""Results: every stored run in a sortable, filterable table; mark runs to compare them side
by side, or open one for its confusion matrix, per-class F1, selection curve and errors."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable, Input

from percmusic_cli import api
from percmusic_cli.render import fmt, safe
from percmusic_cli.tui import tables
from percmusic_cli.tui.base import DataScreen
from percmusic_cli.tui.messages import ResultsLoaded

# column key -> (header, row key it sorts on), in display order: the test F1 right after
# the run id, so it shows at 80 columns without scrolling sideways (the metric, which every
# run id contains, and the split come later).
COLUMNS: dict[str, tuple[str, str]] = {
    "mark": ("✓", "run_id"),
    "run": ("run", "run_id"),
    "test": ("test F1 [95% CI]", "test_f1"),
    "valid": ("valid", "valid_f1"),
    "param": ("k / C", "param"),
    "acc": ("acc", "accuracy"),
    "metric": ("metric/loss", "metric"),
    "split": ("split", "split"),
    "date": ("date", "created_at"),
}
SORTABLE = [k for k in COLUMNS if k != "mark"]


# `field:value` words in the filter select on one column, as `percmusic results --kind`,
# `--metric` and `--split` do; an unknown value is an error listing the valid ones.
FIELDS = ("kind", "metric", "split", "dataset")


def valid_values(runs: list[dict[str, Any]], field: str) -> list[str]:
    stored = [str(r[field]) for r in runs if r.get(field)]
    fixed = {"kind": api.run_kinds(), "metric": api.metric_names()}.get(field, ())
    return list(dict.fromkeys([*fixed, *sorted(stored)]))


def parse_filter(text: str, runs: list[dict[str, Any]]) -> tuple[list[str], str | None]:
    """The filter's words, or an error naming an unknown `field:value` and the valid ones."""
    words = text.split()
    for word in words:
        field, sep, value = word.partition(":")
        if not sep or field.lower() not in FIELDS:
            continue
        valid = valid_values(runs, field.lower())
        if value not in valid:
            return words, f"unknown {field} {value!r}: choose one of {', '.join(valid)}"
    return words, None


def matches(run: dict[str, Any], words: list[str]) -> bool:
    """Every `field:value` word equals that field; every other word occurs in the run's id,
    kind, metric, split, dataset or selection method."""
    hay = " ".join(
        str(run.get(k) or "") for k in ("run_id", "kind", "metric", "split", "dataset", "selection")
    ).lower()
    for word in words:
        field, sep, value = word.partition(":")
        if sep and field.lower() in FIELDS:
            if str(run.get(field.lower()) or "") != value:
                return False
        elif word.lower() not in hay:
            return False
    return True


def sort_key(run: dict[str, Any], field: str) -> tuple[int, Any]:
    value = run.get(field)
    return (value is None, value if value is not None else 0)


def cells(run: dict[str, Any], marked: bool) -> list[str | Text]:
    param = run.get("param")
    name = run.get("param_name") or api.classifier_params().get(run.get("kind") or "", "param")
    by_key: dict[str, str | Text] = {
        "mark": "✓" if marked else " ",
        "run": safe.text(run["run_id"]),
        "metric": safe.text(run.get("metric") or fmt.MISSING),
        "split": safe.text(run.get("split") or fmt.MISSING),
        "param": fmt.MISSING if param is None else f"{name}={fmt.param_value(float(param))}",
        "valid": fmt.score(run.get("valid_f1")),
        "test": fmt.with_ci(run.get("test_f1"), run.get("test_f1_low"), run.get("test_f1_high")),
        "acc": fmt.score(run.get("accuracy")),
        "date": fmt.when(run.get("created_at")),
    }
    return [by_key[key] for key in COLUMNS]


class ResultsScreen(DataScreen):
    """All runs."""

    BINDINGS = [  # noqa: RUF012
        Binding("enter", "open", "Open", show=False),
        Binding("space", "mark", "Mark"),
        Binding("c", "compare", "Compare"),
        Binding("s", "sort", "Sort"),
        Binding("slash", "filter", "Filter"),
    ]
    DEFAULT_CSS = """
    ResultsScreen #filter { height: 3; }
    ResultsScreen DataTable { height: 1fr; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.runs: list[dict[str, Any]] = []
        self.marked: list[str] = []  # run ids, in the order they were marked
        self.sort_column = "date"
        self.reverse = False
        self.words: list[str] = []

    def compose_body(self) -> ComposeResult:
        yield Input(placeholder="filter: words, or kind:knn metric:nlpd split:NAME", id="filter")
        yield DataTable(cursor_type="row", zebra_stripes=True, id="runs")

    def header(self, key: str) -> str:
        """The column's header, with ▲ or ▼ on the one the rows are sorted by."""
        label = COLUMNS[key][0]
        if key != self.sort_column:
            return label
        return f"{label} {'▼' if self.reverse else '▲'}"

    def fetch(self) -> Message:
        return ResultsLoaded(api.results(self.store))

    def on_results_loaded(self, message: ResultsLoaded) -> None:
        self.loaded()
        self.runs = message.runs
        known = {r["run_id"] for r in self.runs}
        self.marked = [m for m in self.marked if m in known]
        self.refresh_table()
        self.query_one("#runs", DataTable).focus()

    def shown_runs(self) -> list[dict[str, Any]]:
        rows = [r for r in self.runs if matches(r, self.words)]
        field = COLUMNS[self.sort_column][1]
        return sorted(rows, key=lambda r: sort_key(r, field), reverse=self.reverse)

    def refresh_table(self) -> None:
        table = self.query_one("#runs", DataTable)
        current = self.current_run()
        rows = [
            (cells(run, run["run_id"] in self.marked), run["run_id"]) for run in self.shown_runs()
        ]
        # The headers change with the sort column.
        tables.fill(table, rows, [(self.header(key), key) for key in COLUMNS])
        if current is not None and current in table.rows:
            table.move_cursor(row=table.get_row_index(current))

    def current_run(self) -> str | None:
        table = self.query_one("#runs", DataTable)
        if not table.row_count:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    @on(Input.Changed, "#filter")
    def filter_changed(self, event: Input.Changed) -> None:
        words, error = parse_filter(event.value, self.runs)
        if error is None:
            self.words = words
            self.refresh_table()

    @on(Input.Submitted, "#filter")
    def filter_done(self, event: Input.Submitted) -> None:
        _, error = parse_filter(event.value, self.runs)
        if error is not None:  # said once, on Enter, not at every keystroke of a value
            self.notify(error, severity="error", timeout=6, markup=False)
            return
        self.query_one("#runs", DataTable).focus()

    @on(DataTable.HeaderSelected)
    def header_clicked(self, event: DataTable.HeaderSelected) -> None:
        key = event.column_key.value or ""
        if key in SORTABLE:
            self.reverse = not self.reverse if key == self.sort_column else False
            self.sort_column = key
            self.refresh_table()

    @on(DataTable.RowSelected, "#runs")
    def row_chosen(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value:
            self.open_run(event.row_key.value)

    def action_filter(self) -> None:
        self.query_one("#filter", Input).focus()

    def action_sort(self) -> None:
        """Next column; sorting on scores puts the best first."""
        self.sort_column = SORTABLE[(SORTABLE.index(self.sort_column) + 1) % len(SORTABLE)]
        self.reverse = self.sort_column in ("valid", "test", "acc")
        self.notify(f"sorted by {COLUMNS[self.sort_column][0]}", timeout=2)
        self.refresh_table()

    def action_mark(self) -> None:
        run = self.current_run()
        if run is None:
            return
        if run in self.marked:
            self.marked.remove(run)
        else:
            self.marked.append(run)
        # Only the mark cell changes: rebuilding the table would race the cursor keys.
        mark = "✓" if run in self.marked else " "
        self.query_one("#runs", DataTable).update_cell(run, "mark", mark)

    def action_open(self) -> None:
        run = self.current_run()
        if run is not None:
            self.open_run(run)

    def open_run(self, run_id: str) -> None:
        from percmusic_cli.tui.screens.run_detail import RunDetailScreen

        self.app.push_screen(RunDetailScreen(run_id))

    def action_compare(self) -> None:
        from percmusic_cli.tui.screens.compare import CompareScreen

        chosen = [r for m in self.marked for r in self.runs if r["run_id"] == m]
        if len(chosen) < 2:
            self.notify("mark two or more runs with space to compare them", severity="warning")
            return
        self.app.push_screen(CompareScreen([r["run_id"] for r in chosen]))
