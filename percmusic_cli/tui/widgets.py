"""Small display widgets: a spectrogram as half-block colour cells, per-class F1 bars, and a
text plot that redraws itself at its current size."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
from rich.text import Text
from textual.app import RenderResult
from textual.widget import Widget
from textual.widgets import Static

from percmusic_cli.render import fmt
from percmusic_cli.render.safe import shown as shown_label

if TYPE_CHECKING:
    from percmusic_cli.api import ClassScore

# A perceptually ordered dark-to-bright ramp (close to matplotlib's magma) for log-mel values.
_STOPS = np.array(
    [[0, 0, 4], [80, 18, 123], [182, 54, 121], [251, 136, 97], [252, 253, 191]], dtype=np.float64
)


def colour(values: np.ndarray) -> np.ndarray:
    """Values in [0, 1] -> (..., 3) uint8 RGB along the ramp."""
    v = np.clip(np.nan_to_num(values), 0.0, 1.0) * (len(_STOPS) - 1)
    lo = np.minimum(v.astype(int), len(_STOPS) - 2)
    frac = (v - lo)[..., None]
    return np.rint(_STOPS[lo] * (1 - frac) + _STOPS[lo + 1] * frac).astype(np.uint8)


def downsample(image: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Block means of `image` onto a rows x cols grid (each cell averages its pixels)."""
    r_edges = np.linspace(0, image.shape[0], rows + 1).astype(int)
    c_edges = np.linspace(0, image.shape[1], cols + 1).astype(int)
    out = np.zeros((rows, cols))
    for i in range(rows):
        band = image[r_edges[i] : max(r_edges[i + 1], r_edges[i] + 1)]
        for j in range(cols):
            out[i, j] = band[:, c_edges[j] : max(c_edges[j + 1], c_edges[j] + 1)].mean()
    return out


def half_blocks(image: np.ndarray, width: int, height: int) -> Text:
    """The image in width x height cells, two pixel rows per cell ("▀": top pixel as the
    foreground, bottom as the background); low mel bands at the bottom, as in the study."""
    grid = colour(downsample(np.asarray(image, dtype=np.float64)[::-1], 2 * height, width))
    text = Text(no_wrap=True, overflow="crop")
    for row in range(height):
        for col in range(width):
            top, bottom = grid[2 * row, col], grid[2 * row + 1, col]
            text.append(
                "▀",
                style=f"rgb({top[0]},{top[1]},{top[2]}) on "
                f"rgb({bottom[0]},{bottom[1]},{bottom[2]})",
            )
        if row < height - 1:
            text.append("\n")
    return text


class Spectrogram(Widget):
    """A log-mel image scaled to the widget."""

    DEFAULT_CSS = "Spectrogram { height: 8; }"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.image: np.ndarray | None = None
        self.caption = "select a track"

    def show(self, image: np.ndarray | None, caption: str) -> None:
        self.image, self.caption = image, caption
        self.refresh()

    def render(self) -> RenderResult:
        if self.image is None or self.size.width < 2 or self.size.height < 1:
            return Text(self.caption, style="dim")
        return half_blocks(self.image, self.size.width, self.size.height)


def f1_bars(scores: Sequence[ClassScore], width: int) -> Text:
    """One line per class: label, a bar as long as its F1 (in eighths of a cell), F1, support."""
    label_w = min(max((len(shown_label(c.label)) for c in scores), default=5), 14)
    bar_w = max(5, width - label_w - 14)
    text = Text(no_wrap=True, overflow="crop")
    for c in scores:
        f1 = 0.0 if np.isnan(c.f1) or not c.support else c.f1
        eighths = round(f1 * bar_w * 8)
        bar = "█" * (eighths // 8) + (" ▏▎▍▌▋▊▉"[eighths % 8] if eighths % 8 else "")
        text.append(f"{shown_label(c.label)[:label_w]:<{label_w}} ", style="bold")
        text.append(f"{bar:<{bar_w}}", style="green" if f1 >= 0.5 else "yellow")
        # No test items: no score (n/a), which is not a score of 0.
        shown = fmt.score(c.f1 if c.support else None, na="n/a")
        text.append(f" {shown} n={c.support}\n")
    text.rstrip()
    return text


class TextPlot(Static):
    """A chart drawn as text by `draw(width, height)`, redrawn whenever the widget resizes."""

    DEFAULT_CSS = "TextPlot { height: 1fr; }"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._draw: Callable[[int, int], str | Text] | None = None

    def set_draw(self, draw: Callable[[int, int], str | Text] | None) -> None:
        self._draw = draw
        self.redraw()

    def on_resize(self) -> None:
        self.redraw()

    def redraw(self) -> None:
        width, height = self.size.width, self.size.height
        if self._draw is None or width < 10 or height < 3:
            return
        out = self._draw(width, height)
        self.update(out if isinstance(out, Text) else Text(out, no_wrap=True, overflow="crop"))
