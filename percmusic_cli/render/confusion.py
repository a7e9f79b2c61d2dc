"""The confusion matrix as a Rich table: counts, with a background that deepens with the
row-normalised value (the share of a true class predicted as each class)."""

from __future__ import annotations

from rich import box
from rich.style import Style
from rich.table import Table
from rich.text import Text

from percmusic_cli.experiments.report import Evaluation
from percmusic_cli.render import fmt, safe

CORNER = "true \\ predicted"
_CORNER_LINES = "true \\\npredicted"
# Background runs from a faint slate to a saturated blue; readable in dark and light themes.
_LOW = (38, 44, 58)
_HIGH = (30, 110, 235)


def shade(fraction: float) -> Style:
    """Background for a row share in [0, 1]: none at 0, then brighter and bluer with the
    share (every channel moves one way, so the shading is monotone in the value)."""
    f = min(1.0, max(0.0, fraction))
    if f == 0.0:
        return Style(dim=True)
    r, g, b = (round(lo + (hi - lo) * f) for lo, hi in zip(_LOW, _HIGH, strict=True))
    return Style(bgcolor=f"rgb({r},{g},{b})", color="white", bold=f >= 0.5)


def _widths(labels: list[str], max_count: int, width: int) -> tuple[int, int]:
    """(row label width, column label width) so the table fits `width` terminal columns."""
    n = max(1, len(labels))
    row_w = min(max(len("predicted"), max(map(len, labels), default=1)), 12)
    # padding of one space on the right of each cell plus SIMPLE_HEAD's one-space divider
    col_w = (width - row_w - 1) // n - 2
    col_w = max(col_w, len(str(max_count)), 3)
    return row_w, min(col_w, max(map(len, labels), default=1))


def confusion_table(evaluation: Evaluation, title: str | None = None, width: int = 80) -> Table:
    """Counts with rows = true labels and columns = predicted labels, in `labels` order.
    Genre names are abbreviated so ten classes fit `width` terminal columns."""
    labels, conf = evaluation.labels, evaluation.confusion
    max_count = max((v for row in conf for v in row), default=0)
    row_w, col_w = _widths(labels, max_count, width)
    heads = fmt.abbreviate(labels, col_w)
    table = Table(
        title=None if title is None else safe.title(title),
        box=box.SIMPLE_HEAD,
        show_edge=False,
        padding=(0, 1, 0, 0),
        title_justify="left",
        caption="rows: true label; columns: predicted; shading: share of the row",
        caption_justify="left",
    )
    table.add_column(_CORNER_LINES, width=row_w, style="bold", no_wrap=True)
    for h in heads:
        table.add_column(safe.text(h), justify="right", no_wrap=True, min_width=col_w)
    for lab, row in zip(fmt.abbreviate(labels, row_w), conf, strict=True):
        total = sum(row)
        cells = [Text(str(v), style=shade(v / total if total else 0.0)) for v in row]
        table.add_row(safe.text(lab), *cells)
    return table
