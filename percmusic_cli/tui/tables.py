"""Filling a DataTable with each column's width given when the column is added.

Textual measures new cells only when the table next idles. A header painted before that (on
a busy machine a paint can come first) is cached at the old, narrower widths, keyed by a
counter that the idle pass does not advance: in a test, only the table's later change of
height redrew it, and one run of the snapshot tests kept the training screen's column titles
out of line with its rows. Widths given with the columns leave nothing to measure later, so
every paint after `fill` draws the header and the rows at the same widths."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Console, RenderableType
from rich.text import Text, TextType
from textual.render import measure
from textual.widgets import DataTable

Cell = str | Text
Row = tuple[Sequence[Cell], str | None]  # the cells and the row's key


def cell_width(console: Console, cell: RenderableType) -> int:
    """The width Textual gives `cell` in a one-line row: a str is read as markup, as
    DataTable reads it."""
    shown = Text.from_markup(cell, end="") if isinstance(cell, str) else cell
    return measure(console, shown, 1)


def fill(
    table: DataTable[Any], rows: Sequence[Row], columns: Sequence[tuple[TextType, str]] = ()
) -> None:
    """Replace the rows of `table` (and its columns, when `columns` are given as (label,
    key) pairs), each column as wide as its label or its widest cell."""
    labels: list[tuple[TextType, str | None]] = list(columns) or [
        (c.label, c.key.value) for c in table.ordered_columns
    ]
    console = table.app.console
    widths = [cell_width(console, label) for label, _ in labels]
    for cells, _ in rows:
        for i, cell in enumerate(cells):
            widths[i] = max(widths[i], cell_width(console, cell))
    table.clear(columns=True)
    for (label, key), width in zip(labels, widths, strict=True):
        table.add_column(label, width=width, key=key)
    for cells, key in rows:
        table.add_row(*cells, key=key)
