"""A table's header lines up with its rows from the first paint after they arrive.

Textual measures new cells when the table next idles; a header painted before that is drawn
at the old widths (and once stayed so in a snapshot of the training screen, beside rows at
the new widths). The paint is forced here, inside the handler that fills the table, so the
check does not depend on the machine's load: on the code before `tables.fill` the header
painted there differs from the one drawn once the table has settled."""

from __future__ import annotations

from typing import Any

import pytest
from pilots import settle, sync
from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import DataTable

from percmusic_cli.store import Store
from percmusic_cli.tui import tables
from percmusic_cli.tui.app import build_app
from percmusic_cli.tui.screens import training


def header_and_rows(table: DataTable[Any]) -> list[str]:
    return [table.render_line(y).text.rstrip() for y in range(table.row_count + 1)]


class OneTable(App[None]):
    def compose(self) -> ComposeResult:
        table: DataTable[str] = DataTable(id="t")
        table.add_columns("id", "n")
        yield table


@sync
async def test_fill_sizes_columns_before_the_table_idles() -> None:
    app = OneTable()
    async with app.run_test(size=(60, 8)) as pilot:
        await settle(pilot)
        table = app.query_one(DataTable)
        long_id = "track-" + "x" * 20
        tables.fill(table, [([Text(long_id), "7"], "a"), (["[b]2[/b]", Text("[b]")], "b")])
        early = header_and_rows(table)  # painted before the table's idle
        await settle(pilot)
        assert header_and_rows(table) == early
        assert early[0].index(" n") == early[1].index(" 7") == len(f" {long_id} ")
        # A str is read as markup, as DataTable reads it; Text is shown as it is.
        assert early[2].split() == ["2", "[b]"]
        assert list(table.rows) == ["a", "b"]
        # Fewer, shorter rows give narrower columns; the labels are kept.
        tables.fill(table, [(["y", "1"], None)])
        assert header_and_rows(table)[0].split() == ["id", "n"]
        assert header_and_rows(table)[0].index(" n") == len(" id ")


@sync
async def test_training_header_lines_up_with_rows_painted_before_idle(
    fixture_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    painted: list[list[str]] = []
    loaded = training.TrainingScreen.on_training_loaded

    def load_then_paint(self: training.TrainingScreen, message: Any) -> None:
        loaded(self, message)
        painted.append(header_and_rows(self.query_one("#models", DataTable)))

    monkeypatch.setattr(training.TrainingScreen, "on_training_loaded", load_then_paint)
    app = build_app(fixture_store)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot, "4")
        assert painted, "the training screen never loaded"
        header, first = painted[-1][:2]
        assert header.split()[:2] == ["model", "loss"]
        model_id = first.split()[0]
        assert header.index(" loss") == first.index(model_id) + len(model_id) + 1
        assert header_and_rows(app.screen.query_one("#models", DataTable)) == painted[-1]
