"""The data of one study figure: a few long-format tables, drawn by `render/figures.py` and
written beside the figure as CSV, assembled from stored results by `steps/figures.py`.
Plain dataclasses here, below both, so the renderer never imports a step."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Row = tuple[Any, ...]


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: list[Row]


@dataclass(frozen=True)
class FigureData:
    name: str  # file stem: fig1-distances
    title: str
    kind: str  # how render/figures.py draws it
    tables: dict[str, Table]  # the first is `<name>.csv`, the others `<name>-<key>.csv`
    notes: list[str] = field(default_factory=list)  # said on stderr, and under the figure
