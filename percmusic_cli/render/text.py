"""Stored names made safe to draw in a figure: plain text, one line, bounded length.

A label is the user's text (a folder name, a manifest value). Matplotlib would read
`$...$` in it as math (and crash on bad math) and lays out a 4096-character tick label
for minutes; so every string a figure draws passes through `for_display` first, while the
CSV beside the figure keeps the full text."""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

from percmusic_cli.experiments.figure_data import FigureData, Table
from percmusic_cli.render.safe import shown

MAX_CHARS = 40  # a tick label or a legend entry; titles get twice as much
# Matplotlib settings for plain text everywhere: no TeX, no mathtext.
PLAIN_TEXT: dict[str, Any] = {"text.usetex": False, "text.parse_math": False}


def short(value: str, limit: int = MAX_CHARS) -> str:
    """`value` on one line (controls shown as \\xNN), cut to `limit` characters with "…"
    and a short hash of the full text, so two long names that share a start stay apart."""
    text = shown(value)
    if len(text) <= limit:
        return text
    tag = hashlib.sha1(value.encode("utf-8", "surrogatepass")).hexdigest()[:4]
    return f"{text[: max(1, limit - 6)]}…#{tag}"


def _cell(value: Any) -> Any:
    return short(value) if isinstance(value, str) else value


def for_display(fig: FigureData) -> FigureData:
    """`fig` with its title and every text cell shortened for drawing (numbers kept)."""
    tables = {
        key: Table(table.columns, [tuple(_cell(v) for v in row) for row in table.rows])
        for key, table in fig.tables.items()
    }
    return dataclasses.replace(fig, title=short(fig.title, 2 * MAX_CHARS), tables=tables)
