"""Charts as plain strings: the selection curve through plotext (the study's Fig. 2) and a
text violin plot of distance distributions per group (Fig. 1)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import plotext as plt

from percmusic_cli.experiments.report import SelectionCurve
from percmusic_cli.render import fmt


def _curve_title(curve: SelectionCurve) -> str:
    what = "validation" if curve.method == "valid" else f"{curve.method} on train"
    return (
        f"weighted F1 ({what}) vs {curve.param}; "
        f"chosen {curve.param}={fmt.param_value(curve.chosen)}"
    )


def _int_ticks(lo: float, hi: float, most: int = 8) -> list[int]:
    """Whole-number ticks for k: a step of 1, 2, 5, 10, ... giving at most `most` ticks."""
    span = max(1, int(hi) - int(lo))
    step = next(s for s in (1, 2, 5, 10, 20, 25, 50, 100, 200, 500, 1000) if span / s < most)
    first = -(-int(lo) // step) * step
    ticks = list(range(max(first, step if lo > 0 else 0), int(hi) + 1, step))
    return sorted({int(lo), *ticks})


def curve_plot(
    curve: SelectionCurve,
    width: int = 80,
    height: int = 20,
    color: bool = False,
    title: str | None = None,
) -> str:
    """Weighted F1 against k (linear axis) or C (log axis), the chosen value marked."""
    xs = [float(v) for v in curve.values]
    ys = [float("nan") if s is None else float(s) for s in curve.scores]
    plt.clear_figure()  # plotext keeps one global figure: always start from a blank one
    plt.plot_size(width, height)
    plt.theme("clear")
    if curve.param == "C":
        plt.xscale("log")
        plt.xticks(xs, [fmt.param_value(v) for v in xs])
    elif xs:
        ticks = _int_ticks(min(xs), max(xs))
        plt.xticks(ticks, [str(t) for t in ticks])
    plt.plot(xs, ys, marker="braille")
    chosen_y = ys[xs.index(curve.chosen)] if curve.chosen in xs else max(ys)
    plt.scatter([curve.chosen], [chosen_y], marker="●")
    plt.title(title or _curve_title(curve))
    plt.xlabel(curve.param)
    text = str(plt.build())
    plt.clear_figure()
    return text if color else str(plt.uncolorize(text))


# Upper halves grow up from the centre line in eighths; lower halves grow down, and the
# only downward blocks are 1/8, 1/2 and full, so they are rounded to those.
_UP = " ▁▂▃▄▅▆▇█"
_DOWN = {0: " ", 1: "▔", 2: "▔", 3: "▀", 4: "▀", 5: "▀", 6: "█", 7: "█", 8: "█"}


def _density(values: np.ndarray, lo: float, hi: float, bins: int) -> np.ndarray:
    """Histogram over [lo, hi], lightly smoothed, scaled to a peak of 1."""
    if values.size == 0:
        return np.zeros(bins)
    hist, _ = np.histogram(values, bins=bins, range=(lo, hi))
    kernel = np.array([1.0, 2.0, 3.0, 2.0, 1.0])
    smooth = np.convolve(hist.astype(float), kernel / kernel.sum(), mode="same")
    peak = smooth.max()
    return smooth / peak if peak > 0 else smooth


def _box_line(quantiles: Sequence[float] | None, lo: float, hi: float, bins: int) -> str:
    """Centre line: whiskers from the 5th to the 95th percentile, a heavy bar over the
    inter-quartile range and a mark at the median, as inside a violin. `quantiles` are
    (q05, q25, median, q75, q95), or None for an empty group."""
    line = [" "] * bins
    if quantiles is None:
        return "".join(line)
    q05, q25, q50, q75, q95 = quantiles
    span = (hi - lo) or 1.0

    def col(v: float) -> int:
        return int(min(bins - 1, max(0, round((v - lo) / span * (bins - 1)))))

    for c in range(col(q05), col(q95) + 1):
        line[c] = "─"
    for c in range(col(q25), col(q75) + 1):
        line[c] = "━"
    line[col(q50)] = "┃"
    return "".join(line)


def _axis(lo: float, hi: float, bins: int, pad: int) -> str:
    left, mid, right = fmt.quantity(lo), fmt.quantity((lo + hi) / 2), fmt.quantity(hi)
    line = [" "] * bins
    for pos, text in ((0, left), ((bins - len(mid)) // 2, mid), (bins - len(right), right)):
        line[max(0, pos) : max(0, pos) + len(text)] = text
    return " " * pad + "".join(line)[:bins]


def _quantiles(values: np.ndarray) -> tuple[float, ...] | None:
    if values.size == 0:
        return None
    return tuple(float(q) for q in np.quantile(values, [0.05, 0.25, 0.5, 0.75, 0.95]))


def _violins(
    shapes: Sequence[tuple[str, np.ndarray, Sequence[float] | None]],
    lo: float,
    hi: float,
    bins: int,
    label_w: int,
    mirrored: bool,
    title: str,
) -> str:
    """Draw (name, density scaled to a peak of 1 over `bins`, quantiles) per group."""
    lines = [title] if title else []
    for name, dens, quantiles in shapes:
        eighths = np.rint(dens * 8).astype(int)
        label = f"{name[:label_w]:<{label_w}} "
        blank = " " * (label_w + 1)
        lines.append(label + "".join(_UP[e] for e in eighths))
        lines.append(blank + _box_line(quantiles, lo, hi, bins))
        if mirrored:
            lines.append(blank + "".join(_DOWN[e] for e in eighths))
    lines.append(_axis(lo, hi, bins, label_w + 1))
    return "\n".join(line.rstrip() for line in lines)


def _layout(names: Sequence[str], width: int, height: int) -> tuple[int, int, bool]:
    label_w = min(max((len(n) for n in names), default=3), 12)
    bins = max(10, width - label_w - 1)
    return label_w, bins, height >= 3 * len(names) + 2


def violin_plot(
    groups: Mapping[str, np.ndarray], width: int = 80, height: int = 40, title: str = ""
) -> str:
    """Mirrored density per group on one shared distance axis, with an inner box line.
    Each group takes 3 lines (2 when `height` is too small for 3), plus title and axis."""
    names = list(groups)
    arrays = [np.asarray(groups[n], dtype=np.float64).ravel() for n in names]
    arrays = [a[np.isfinite(a)] for a in arrays]
    pooled = np.concatenate(arrays) if arrays else np.zeros(0)
    lo, hi = (float(pooled.min()), float(pooled.max())) if pooled.size else (0.0, 1.0)
    label_w, bins, mirrored = _layout(names, width, height)
    shapes = [
        (n, _density(a, lo, hi, bins), _quantiles(a)) for n, a in zip(names, arrays, strict=True)
    ]
    return _violins(shapes, lo, hi, bins, label_w, mirrored, title)


def density_violins(
    rows: Sequence[Mapping[str, Any]], width: int = 80, height: int = 40, title: str = ""
) -> str:
    """Violins from stored statistics (`distances stats`): each row's density on the grid
    shared by its metric's groups, and its q05/q25/median/q75/q95."""
    if not rows:
        return title
    names = [str(r["group"]) for r in rows]
    lo, hi = float(rows[0]["density"]["lo"]), float(rows[0]["density"]["hi"])
    label_w, bins, mirrored = _layout(names, width, height)
    grid = np.linspace(lo, hi, bins)
    shapes = []
    for name, row in zip(names, rows, strict=True):
        values = np.asarray(row["density"]["values"], dtype=np.float64)
        dens = np.interp(grid, np.linspace(lo, hi, values.size), values)
        peak = dens.max()
        keys = ("q05", "q25", "median", "q75", "q95")
        quantiles = None if row.get("n", 0) == 0 else [float(row[k]) for k in keys]
        shapes.append((name, dens / peak if peak > 0 else dens, quantiles))
    return _violins(shapes, lo, hi, bins, label_w, mirrored, title)
