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
    density = _grouped(_records(fig_data.tables["density"]), "metric")
    summary = _records(fig_data.tables["summary"])
    fig, axes = plt.subplots(len(density), 1, figsize=(DOUBLE, 1.5 * len(density)), squeeze=False)
    for ax, (metric, rows) in zip(axes[:, 0], density.items(), strict=True):
        groups = list(_grouped(rows, "group").items())
        for pos, (group, grows) in enumerate(groups):
            _violin(ax, pos, grows, "0.55" if group == "all" else "C0")
            med = [s["median"] for s in summary if s["metric"] == metric and s["group"] == group]
            if med and med[0] is not None:
                ax.plot([pos - 0.25, pos + 0.25], [med[0]] * 2, color="k", lw=0.8)
        ax.set_xticks(range(len(groups)), [g for g, _ in groups], rotation=30, ha="right")
        ax.set_ylabel(f"{metric} distance")
        ax.margins(x=0.01)
    axes[0, 0].set_title(fig_data.title + " (grey: all pairs; bar: median)")
    return fig


def _separation(fig_data: FigureData, plt: Any) -> Any:
    density = _grouped(_records(fig_data.tables["density"]), "metric")
    seps = {s["metric"]: s for s in _records(fig_data.tables["separation"])}
    fig, axes = plt.subplots(1, len(density), figsize=(DOUBLE, 2.0), squeeze=False)
    for ax, (metric, rows) in zip(axes[0], density.items(), strict=True):
        groups = _grouped(rows, "group")
        for pos, (group, color) in enumerate((("within", "C0"), ("between", "C1"))):
            _violin(ax, pos, groups.get(group, []), color)
        s = seps[metric]
        ax.set_xticks([0, 1], ["within genre", "between genres"])
        ax.set_title(f"{metric}: ratio {s['ratio_of_means']:.2f}, AUC {s['auc']:.2f}")
        ax.set_ylabel("distance")
    return fig


def _curves(fig_data: FigureData, plt: Any) -> Any:
    fig, ax = plt.subplots(figsize=(SINGLE, 2.3))
    runs = _grouped(_records(fig_data.tables["curve"]), "run_id")
    for n, rows in enumerate(runs.values()):
        for part, prows in _grouped(rows, "part").items():
            style = "--" if part == "test" else "-"
            label = f"{rows[0]['metric']} ({part})"
            ax.plot(
                [r["k"] for r in prows], [r["f1"] for r in prows], style, color=f"C{n}", label=label
            )
            chosen = [r for r in prows if r["chosen"]]
            if chosen:
                ax.plot(chosen[0]["k"], chosen[0]["f1"], "o", color=f"C{n}", ms=3)
    ax.set_xlabel("k")
    ax.set_ylabel("weighted F1")
    ax.set_title(fig_data.title)
    if runs:
        ax.legend(frameon=False)
    return fig


def _confusions(fig_data: FigureData, plt: Any) -> Any:
    runs = _grouped(_records(fig_data.tables["confusion"]), "run_id")
    n = max(len(runs), 1)
    width = DOUBLE if n > 1 else SINGLE
    fig, axes = plt.subplots(
        1, n, figsize=(width, width / n + 0.8), squeeze=False, layout="constrained"
    )
    for col, (ax, rows) in enumerate(zip(axes[0], runs.values(), strict=False)):
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
        # Genre names on the first matrix only: the rows are the same in all of them.
        ax.set_yticks(range(len(labels)), labels if col == 0 else [], fontsize=5)
        ax.set_title(rows[0]["metric"])
        ax.set_xlabel("predicted")
    axes[0, 0].set_ylabel("true")
    if not runs:
        axes[0, 0].axis("off")
    fig.suptitle(fig_data.title)
    return fig


def _loss(fig_data: FigureData, plt: Any) -> Any:
    """One panel per model: the losses have different scales (MSE ~0.08, 1 - MS-SSIM ~1)."""
    baselines = _grouped(_records(fig_data.tables["baseline"]), "model_id")
    models = _grouped(_records(fig_data.tables["loss"]), "model_id")
    n = max(len(models), 1)
    width = DOUBLE if n > 1 else SINGLE
    fig, axes = plt.subplots(1, n, figsize=(width, 2.0), squeeze=False, layout="constrained")
    for ax, (model, rows) in zip(axes[0], models.items(), strict=False):
        ax.plot([r["step"] for r in rows], [r["value"] for r in rows], color="C0")
        for b in baselines.get(model, []):
            ax.axhline(b["value"], color="C3", ls=":", lw=0.8, label="trivial baseline")
            ax.legend(frameon=False)
        ax.set_title(f"{rows[0]['loss']}: {model}", fontsize=7)
        ax.set_xlabel("step")
    axes[0, 0].set_ylabel("training loss")
    fig.suptitle(fig_data.title)
    return fig


def _fmt(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def _table(fig_data: FigureData, plt: Any) -> Any:
    records = _records(fig_data.tables["table"])
    fig, ax = plt.subplots(figsize=(DOUBLE, 0.25 * (len(records) + 2)))
    ax.axis("off")
    header = ["run", "kind", "metric", "k / C", "valid F1", "test F1 [95% CI]", "accuracy"]
    cells = [
        [
            r["run_id"],
            r["kind"],
            r["metric"],
            f"{r['param_name']}={r['param']:g}" if r["param_name"] and r["param"] else "-",
            _fmt(r["valid_f1"]),
            f"{_fmt(r['test_f1'])} [{_fmt(r['test_f1_low'])}, {_fmt(r['test_f1_high'])}]",
            _fmt(r["accuracy"]),
        ]
        for r in records
    ]
    if cells:
        table = ax.table(cellText=cells, colLabels=header, loc="center", cellLoc="left")
        table.auto_set_font_size(False)
        table.set_fontsize(7)
        table.auto_set_column_width(list(range(len(header))))
    ax.set_title(fig_data.title)
    return fig


DRAW: dict[str, Callable[[FigureData, Any], Any]] = {
    "violins": _violins,
    "separation": _separation,
    "curves": _curves,
    "confusions": _confusions,
    "loss": _loss,
    "table": _table,
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
