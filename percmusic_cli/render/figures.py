"""The study's figures as PDF, SVG or PNG for a two-column paper, drawn with matplotlib
(Agg, no display) from `FigureData` tables only, each written beside its CSV tables.

Sizes: 3.4 in wide for a single column, 7 in for the full width; 8 pt text. Files are
written to a temporary name and renamed into place, so a crash leaves no half figure."""

from __future__ import annotations

import csv
import io
import math
import os
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from percmusic_cli.experiments.figure_data import FigureData, Table
from percmusic_cli.render.text import PLAIN_TEXT, for_display

FORMATS = ("pdf", "svg", "png")
SINGLE, DOUBLE = 3.4, 7.0  # inches: one column, both columns
STYLE: dict[str, Any] = {
    "font.size": 8,
    "axes.titlesize": 8,
    "axes.labelsize": 8,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "legend.fontsize": 7,
    "axes.linewidth": 0.6,
    "lines.linewidth": 1.0,
    "pdf.fonttype": 42,  # TrueType in PDFs: editable text, accepted by publishers
    "ps.fonttype": 42,
    "svg.fonttype": "none",
    "savefig.dpi": 300,
    "savefig.bbox": "tight",
    "savefig.pad_inches": 0.02,
    **PLAIN_TEXT,  # labels are users' text: never TeX or mathtext
}


def _replace(path: Path, write: Callable[[Path], None]) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def csv_text(table: Table) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(table.columns)
    writer.writerows(["" if v is None else v for v in row] for row in table.rows)
    return buf.getvalue()


def _records(table: Table) -> list[dict[str, Any]]:
    return [dict(zip(table.columns, row, strict=True)) for row in table.rows]


def _grouped(records: list[dict[str, Any]], key: str) -> dict[Any, list[dict[str, Any]]]:
    out: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        out[r[key]].append(r)
    return dict(out)


def _violin(ax: Any, pos: float, rows: list[dict[str, Any]], color: str) -> None:
    """A violin from a density on a grid (the CSV's rows), half-width 0.4 at its peak."""
    ys = [r["distance"] for r in rows]
    dens = [r["density"] for r in rows]
    peak = max(dens) or 1.0
    half = [0.4 * d / peak for d in dens]
    ax.fill_betweenx(ys, [pos - h for h in half], [pos + h for h in half], color=color, lw=0.4)


def _violins(fig_data: FigureData, plt: Any) -> Any:
    """One panel per metric; each violin spans only its own genre's distances."""
    density = _grouped(_records(fig_data.tables["density"]), "metric")
    summary = _records(fig_data.tables["summary"])
    fig, axes = plt.subplots(
        len(density),
        1,
        figsize=(DOUBLE, 1.9 * len(density) + 0.3),
        squeeze=False,
        layout="constrained",  # room for the rotated genre ticks above the next panel
    )
    for ax, (metric, rows) in zip(axes[:, 0], density.items(), strict=True):
        groups = list(_grouped(rows, "group").items())
        for pos, (group, grows) in enumerate(groups):
            _violin(ax, pos, grows, "0.55" if group == "all" else "C0")
            med = [s["median"] for s in summary if s["metric"] == metric and s["group"] == group]
            if med and med[0] is not None:
                ax.plot([pos - 0.25, pos + 0.25], [med[0]] * 2, color="k", lw=0.8)
        ax.set_xticks(range(len(groups)), [g for g, _ in groups], rotation=30, ha="right")
        ax.set_ylabel(f"{rows[0]['label']} distance")
        ax.margins(x=0.01)
    axes[0, 0].set_title(fig_data.title + " (grey: all pairs; bar: median)")
    return fig


def _separation(fig_data: FigureData, plt: Any) -> Any:
    density = _grouped(_records(fig_data.tables["density"]), "metric")
    seps = {s["metric"]: s for s in _records(fig_data.tables["separation"])}
    n = max(len(density), 1)
    fig, axes = plt.subplots(1, n, figsize=(DOUBLE, 2.2), squeeze=False, layout="constrained")
    for ax, (metric, rows) in zip(axes[0], density.items(), strict=True):
        groups = _grouped(rows, "group")
        for pos, (group, color) in enumerate((("within", "C0"), ("between", "C1"))):
            _violin(ax, pos, groups.get(group, []), color)
        s = seps[metric]
        ax.set_xticks([0, 1], ["within", "between"])
        ax.set_title(f"{rows[0]['label']}\nratio {s['ratio_of_means']:.2f}, AUC {s['auc']:.2f}")
    axes[0, 0].set_ylabel("distance")
    return fig


def _curves(fig_data: FigureData, plt: Any) -> Any:
    """One line per KNN arm and part: the mean over folds and seeds, a ±sd band."""
    fig, ax = plt.subplots(figsize=(SINGLE, 3.0), layout="constrained")
    arms = _grouped(_records(fig_data.tables["curve"]), "arm")
    for n, (arm, rows) in enumerate(arms.items()):
        for part, prows in _grouped(rows, "part").items():
            prows = sorted(prows, key=lambda r: r["k"])
            ks = [r["k"] for r in prows]
            mean = [r["mean"] for r in prows]
            sd = [r["sd"] or 0.0 for r in prows]
            style = "--" if part == "test" else "-"
            ax.plot(ks, mean, style, color=f"C{n}", label=f"{arm} ({part})")
            if any(sd):
                low = [m - d for m, d in zip(mean, sd, strict=True)]
                high = [m + d for m, d in zip(mean, sd, strict=True)]
                ax.fill_between(ks, low, high, color=f"C{n}", alpha=0.15, lw=0)
    ax.set_xlabel("k")
    ax.set_ylabel("weighted F1")
    ax.set_title(fig_data.title, fontsize=7, wrap=True)
    if arms:
        ax.legend(
            frameon=False, fontsize=6, loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=2
        )
    return fig


def _grid(n: int, max_cols: int = 4) -> tuple[int, int]:
    cols = min(max(n, 1), max_cols)
    return math.ceil(max(n, 1) / cols), cols


def _confusions(fig_data: FigureData, plt: Any) -> Any:
    """One matrix per arm (summed over its folds and seeds), four to a row."""
    arms = _grouped(_records(fig_data.tables["confusion"]), "arm")
    nrows, ncols = _grid(len(arms))
    width = DOUBLE if len(arms) > 1 else SINGLE
    side = width / ncols
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(width, nrows * (side + 0.6) + 0.4),
        squeeze=False,
        layout="constrained",
    )
    flat = list(axes.ravel())
    for col, (ax, (arm, rows)) in enumerate(zip(flat, arms.items(), strict=False)):
        labels = list(dict.fromkeys(r["true"] for r in rows))
        index = {lab: i for i, lab in enumerate(labels)}
        grid = [[0] * len(labels) for _ in labels]
        for r in rows:
            grid[index[r["true"]]][index[r["pred"]]] = r["count"]
        ax.imshow(grid, cmap="Blues")
        if len(labels) <= 12:
            top = max(max(row) for row in grid) or 1
            for i, row in enumerate(grid):
                for j, v in enumerate(row):
                    color = "w" if v > top / 2 else "k"
                    ax.text(j, i, str(v), ha="center", va="center", fontsize=5, color=color)
        ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=5)
        # Genre names on the first matrix of each row only: the rows are the same in all.
        ax.set_yticks(range(len(labels)), labels if col % ncols == 0 else [], fontsize=5)
        ax.set_title(arm, fontsize=7)
        ax.set_xlabel("predicted", fontsize=6)
        if col % ncols == 0:
            ax.set_ylabel("true", fontsize=6)
    for ax in flat[len(arms) :]:
        ax.axis("off")
    fig.suptitle(fig_data.title)
    return fig


def _loss(fig_data: FigureData, plt: Any) -> Any:
    """One panel per loss (scales differ: MSE ~0.08, 1 - MS-SSIM ~1), a line per model."""
    baselines = _grouped(_records(fig_data.tables["baseline"]), "model_id")
    losses = _grouped(_records(fig_data.tables["loss"]), "label")
    nrows, ncols = _grid(len(losses))
    width = DOUBLE if len(losses) > 1 else SINGLE
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(width, 1.9 * nrows + 0.3), squeeze=False, layout="constrained"
    )
    flat = list(axes.ravel())
    for ax, (label, rows) in zip(flat, losses.items(), strict=False):
        models = _grouped(rows, "model_id")
        for mrows in models.values():
            ax.plot([r["step"] for r in mrows], [r["value"] for r in mrows], color="C0", lw=0.7)
        drawn = [b for m in models for b in baselines.get(m, [])]
        if drawn:
            ax.axhline(drawn[0]["value"], color="C3", ls=":", lw=0.8, label="trivial baseline")
            ax.legend(frameon=False)
        ax.set_title(f"{label} ({len(models)} model{'s' if len(models) > 1 else ''})")
        ax.set_xlabel("step")
    for ax in flat[len(losses) :]:
        ax.axis("off")
    flat[0].set_ylabel("training loss")
    fig.suptitle(fig_data.title)
    return fig


def _fmt(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def _table(fig_data: FigureData, plt: Any) -> Any:
    records = _records(fig_data.tables["table"])
    fig, ax = plt.subplots(figsize=(SINGLE, 0.2 * (len(records) + 2) + 0.3))
    ax.axis("off")
    header = ["arm", "runs", "test F1 mean ± sd", "range"]
    cells = [
        [
            r["arm"],
            str(r["runs"]),
            f"{_fmt(r['mean_test_f1'])} ± {_fmt(r['sd'])}",
            f"{_fmt(r['min'])} to {_fmt(r['max'])}",
        ]
        for r in records
    ]
    if cells:
        table = ax.table(cellText=cells, colLabels=header, loc="center", cellLoc="left")
        table.auto_set_font_size(False)
        table.set_fontsize(6)
        table.auto_set_column_width(list(range(len(header))))
    ax.set_title(fig_data.title)
    return fig


def _forest(fig_data: FigureData, plt: Any) -> Any:
    """One row per claim: the difference and its unadjusted 95% CI; a filled marker when
    the Holm-adjusted p is below 0.05."""
    claims = _records(fig_data.tables["claims"])
    fig, ax = plt.subplots(figsize=(DOUBLE, 0.17 * len(claims) + 0.8), layout="constrained")
    for y, c in enumerate(reversed(claims)):
        ax.plot([c["low"], c["high"]], [y, y], color="k", lw=0.8)
        filled = bool(c["holm_significant"])
        ax.plot(c["diff"], y, "o", ms=3.5, color="k", mfc="k" if filled else "w")
    ax.axvline(0.0, color="0.5", lw=0.6, ls=":")
    ax.set_yticks(range(len(claims)), [c["claim"] for c in reversed(claims)], fontsize=6)
    ax.set_xlabel("difference in test weighted F1 (positive: the claim holds)")
    ax.set_title(fig_data.title)
    return fig


DRAW: dict[str, Callable[[FigureData, Any], Any]] = {
    "violins": _violins,
    "separation": _separation,
    "curves": _curves,
    "confusions": _confusions,
    "loss": _loss,
    "table": _table,
    "forest": _forest,
}


def _csv_writer(table: Table) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        path.write_text(csv_text(table), encoding="utf-8")

    return write


def _fig_writer(fig: Any, fmt: str) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        fig.savefig(path, format=fmt)

    return write


def write_figures(figures: list[FigureData], out: Path, fmt: str) -> list[Path]:
    """Each figure with data as `<name>.<fmt>` and its tables as CSV beside it; returns
    the paths written (a figure without data writes nothing; its notes say why)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with plt.rc_context(STYLE):  # type: ignore[arg-type]
        for fig_data in figures:
            if not fig_data.tables or not any(t.rows for t in fig_data.tables.values()):
                continue
            for n, (key, table) in enumerate(fig_data.tables.items()):
                path = out / (f"{fig_data.name}.csv" if n == 0 else f"{fig_data.name}-{key}.csv")
                _replace(path, _csv_writer(table))
                written.append(path)
            fig = DRAW[fig_data.kind](for_display(fig_data), plt)  # the CSV keeps full text
            path = out / f"{fig_data.name}.{fmt}"
            try:
                _replace(path, _fig_writer(fig, fmt))
            finally:
                plt.close(fig)
            written.append(path)
    return written
