"""The figures' data from a stored study (snapshots of the tables each figure is drawn
from and written beside it as CSV; pixels are not compared), and the files written."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any

import pytest
from fixture_store import LABELS, MODEL_ID, PARTS, PER_LABEL, StoreCopies
from typer.testing import CliRunner

from percmusic_cli import api
from percmusic_cli.cli.app import app
from percmusic_cli.render.figures import csv_text, write_figures
from percmusic_cli.steps import figures as fs
from percmusic_cli.steps.figures import FigureData, Table
from percmusic_cli.store import Store


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, store_copies: StoreCopies) -> Store:
    return store_copies.copy(tmp_path_factory.mktemp("figures") / "store")


@pytest.fixture(scope="module")
def figures(store: Store) -> dict[str, FigureData]:
    return {f.name: f for f in api.figure_data(store)}


def _rounded(value: Any) -> Any:
    # Six significant digits: the snapshot holds the data, not the last bits of a float.
    return float(f"{value:.6g}") if isinstance(value, float) and math.isfinite(value) else value


def _plain(fig: FigureData) -> dict[str, Any]:
    """The figure as its CSV files would read (floats to 6 significant digits)."""
    return {
        "title": fig.title,
        "kind": fig.kind,
        "notes": fig.notes,
        "csv": {
            key: csv_text(Table(t.columns, [tuple(_rounded(v) for v in r) for r in t.rows]))
            for key, t in fig.tables.items()
        },
    }


@pytest.mark.parametrize(
    "name",
    [
        "fig1-distances",
        "fig1b-within-between",
        "fig2-f1-vs-k",
        "fig3-knn-confusion",
        "fig4-lr-confusion",
        "fig5-training-loss",
        "fig6-study-table",
    ],
)
def test_figure_data_snapshot(figures: dict[str, FigureData], name: str, snapshot: Any) -> None:
    assert _plain(figures[name]) == snapshot


def test_within_between_separation_is_measured(figures: dict[str, FigureData]) -> None:
    table = figures["fig1b-within-between"].tables["separation"]
    rows = {r[0]: dict(zip(table.columns, r, strict=True)) for r in table.rows}
    assert list(rows) == ["mse", "msssim", "nlpd"]
    n = len(LABELS) * PER_LABEL
    for row in rows.values():
        assert row["n_within"] == len(LABELS) * PER_LABEL * (PER_LABEL - 1) // 2
        assert row["n_within"] + row["n_between"] == n * (n - 1) // 2
        assert 0.5 < row["auc"] <= 1.0  # the fixture's genres are apart
        assert row["ratio_of_means"] == pytest.approx(row["mean_between"] / row["mean_within"])


def test_confusions_count_every_test_track(figures: dict[str, FigureData]) -> None:
    table = figures["fig3-knn-confusion"].tables["confusion"]
    per_arm: dict[str, int] = {}
    for arm, _label, _true, _pred, count, runs in table.rows:
        per_arm[arm] = per_arm.get(arm, 0) + count
        assert runs == 1
    assert per_arm == {
        f"KNN: {label}": len(LABELS) * PARTS.count("test")
        for label in ("MSE", "1 - MS-SSIM", "NLPD")
    }
    assert figures["fig4-lr-confusion"].tables["confusion"].rows == []  # no latent runs


def test_the_recorded_baseline_is_drawn(figures: dict[str, FigureData]) -> None:
    fig = figures["fig5-training-loss"]
    # The fixture model records its trivial baseline (1/12 for MSE on U(0, 1) noise).
    assert fig.tables["baseline"].rows == [(MODEL_ID, "mse", "MSE", 1 / 12, "recorded")]
    assert len(fig.tables["loss"].rows) == 60


def test_mse_without_a_recorded_baseline_gets_one_twelfth_and_says_so() -> None:
    assert fs._baseline({"loss": "mse", "data": "noise"}) == (
        1 / 12,
        "1/12: MSE of predicting 0.5 for U(0,1) noise",
    )


def test_a_recorded_baseline_wins_and_other_losses_have_none() -> None:
    assert fs._baseline({"loss": "nlpd", "baseline_loss": 0.7}) == (0.7, "recorded")
    assert fs._baseline({"loss": "nlpd", "data": "noise"}) is None
    assert fs._baseline({"loss": "mse", "data": "spectrograms"}) is None


def test_named_runs_select_the_curves(store: Store) -> None:
    figs = {f.name: f for f in api.figure_data(store, ["knn-nlpd"])}
    assert {r[0] for r in figs["fig2-f1-vs-k"].tables["curve"].rows} == {"KNN: NLPD"}
    assert [r[0] for r in figs["fig6-study-table"].tables["table"].rows] == ["KNN: NLPD"]


def test_write_figures_draws_each_with_its_csv(
    figures: dict[str, FigureData], tmp_path: Path
) -> None:
    paths = write_figures(list(figures.values()), tmp_path, "svg")
    names = sorted(p.name for p in paths)
    assert "fig4-lr-confusion.svg" not in names  # nothing to draw, nothing written
    for name in ("fig1-distances", "fig1b-within-between", "fig3-knn-confusion"):
        assert f"{name}.svg" in names and f"{name}.csv" in names
        assert (tmp_path / f"{name}.svg").read_text().lstrip().startswith("<?xml")
    assert "fig1b-within-between-separation.csv" in names
    text = (tmp_path / "fig3-knn-confusion.csv").read_text()
    assert text == csv_text(figures["fig3-knn-confusion"].tables["confusion"])
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["arm", "label", "true", "pred", "count", "runs"]
    assert not list(tmp_path.glob(".*tmp*"))  # no temporary file left behind


@pytest.mark.parametrize("fmt", ["pdf", "png"])
def test_other_formats(figures: dict[str, FigureData], tmp_path: Path, fmt: str) -> None:
    (path,) = [
        p for p in write_figures([figures["fig2-f1-vs-k"]], tmp_path, fmt) if p.suffix != ".csv"
    ]
    magic = {"pdf": b"%PDF", "png": b"\x89PNG"}[fmt]
    assert path.read_bytes().startswith(magic)


@pytest.mark.slow  # draws every figure as PNG
def test_figures_command(store: Store, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "figs"
    args = ["--store", str(store.root), "figures", "--out", str(out), "--format", "png"]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    assert "fig4-lr-confusion" not in result.stdout
    assert (out / "fig2-f1-vs-k.png").is_file() and (out / "fig2-f1-vs-k.csv").is_file()
    assert "fig2-f1-vs-k: test F1 against k is not stored" in result.stderr
    bad = runner.invoke(app, ["--store", str(store.root), "figures", "--format", "jpg"])
    assert bad.exit_code == 1 and "choose one of pdf, svg, png" in bad.stderr
    missing = runner.invoke(app, ["--store", str(store.root), "figures", "nope"])
    assert missing.exit_code == 2 and "no run 'nope'" in missing.stderr


def _fold_run(kind: str, name: str, fold: int, seed: int, hub: str = "none") -> dict[str, Any]:
    """A stored run of a 2-fold x 2-seed study, as `get_run` returns it."""
    labels = ["a", "b"]
    confusion = [[2, 1], [0, 3]] if seed == 0 else [[3, 0], [1, 2]]
    curve = {"values": [1.0, 2.0, 3.0], "scores": [0.5 + 0.1 * fold, 0.6, 0.4 + 0.1 * seed]}
    return {
        "run_id": f"{kind}-{name}-{hub}-{fold}-{seed}",
        "kind": kind,
        "name": name,
        "split": f"random/fold{fold}of2-s0",
        "seed": seed,
        "created_at": f"2026-01-01 00:0{fold}:0{seed}",
        "config": {} if hub == "none" else {"hubness": hub},
        "result": {
            "evaluation": {"labels": labels, "confusion": confusion},
            "curve": {**curve, "method": "cv", "chosen": 2.0},
        },
    }


def _study_runs() -> list[dict[str, Any]]:
    runs = []
    for fold in (1, 2):
        for seed in (0, 1):
            for m in ("mse", "msssim", "nlpd"):
                runs.append(_fold_run("knn", m, fold, seed))
                runs.append(_fold_run("knn", m, fold, seed, hub="mp"))
                runs.append(_fold_run("latent", m, fold, seed))
            runs += [_fold_run("latent", c, fold, seed) for c in ("raw", "untrained")]
    return runs


def _panels(fig_data: FigureData) -> list[str]:
    """The titles of the drawn panels (axes with something on them)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from percmusic_cli.render.figures import DRAW

    fig = DRAW[fig_data.kind](fig_data, plt)
    try:
        return [ax.get_title() for ax in fig.axes if ax.axison]
    finally:
        plt.close(fig)


def test_a_repeated_study_draws_one_panel_per_metric_and_arm() -> None:
    runs, design, notes = fs.one_design(_study_runs())
    assert design == "random, cv-2 (folds from seed 0)" and notes == []
    knn = fs.confusion_figure(runs, "knn")
    assert _panels(knn) == [
        "KNN: MSE",
        "KNN mp: MSE",
        "KNN: 1 - MS-SSIM",
        "KNN mp: 1 - MS-SSIM",
        "KNN: NLPD",
        "KNN mp: NLPD",
    ]
    assert "summed over 2 fold(s) x 2 seed(s)" in knn.title
    total = sum(r[4] for r in knn.tables["confusion"].rows if r[0] == "KNN: MSE")
    assert total == 4 * 6  # 2 folds x 2 seeds, 6 test tracks each
    lr = fs.confusion_figure(runs, "latent")
    assert _panels(lr) == [
        "AE+LR: MSE",
        "AE+LR: 1 - MS-SSIM",
        "AE+LR: NLPD",
        "LR: raw pooled",
        "LR: untrained encoder",
    ]
    curves = fs.curve_figure(runs)
    rows = {(r[0], r[3]): r for r in curves.tables["curve"].rows}
    # k = 1: the folds score 0.6 and 0.7 with both seeds: mean 0.65, n 4
    assert rows["KNN: MSE", 1.0][4] == pytest.approx(0.65) and rows["KNN: MSE", 1.0][6] == 4
    assert rows["KNN: MSE", 2.0][7] == 4  # every run chose k = 2
    assert len(_panels(curves)) == 1
    table = fs.table_figure(runs, [])
    assert table.tables["table"].rows == []  # no listed scores: nothing invented


def test_one_design_keeps_the_newest_design_only() -> None:
    old = {**_fold_run("knn", "mse", 1, 0), "split": "random", "created_at": "2025-01-01"}
    runs, _design, notes = fs.one_design([old, *_study_runs()])
    assert old not in runs and len(runs) == len(_study_runs())
    assert notes and "1 run(s)" in notes[0]


def test_fig1_uses_labels_and_each_violin_its_own_range(figures: dict[str, FigureData]) -> None:
    fig = figures["fig1-distances"]
    density = fig.tables["density"]
    summary = fig.tables["summary"]
    assert {r[1] for r in density.rows} == {"MSE", "1 - MS-SSIM", "NLPD"}
    for metric, group in {(r[0], r[2]) for r in density.rows}:
        xs = [r[3] for r in density.rows if r[0] == metric and r[2] == group]
        q05, q95 = next((r[5], r[6]) for r in summary.rows if r[0] == metric and r[1] == group)
        # the grid spans the group's own values: from at most its 5% to at least its 95%
        assert min(xs) <= q05 and max(xs) >= q95 and min(xs) >= 0
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from percmusic_cli.render.figures import DRAW

    drawn = DRAW["violins"](fig, plt)
    try:
        assert [ax.get_ylabel() for ax in drawn.axes] == [
            "MSE distance",
            "1 - MS-SSIM distance",
            "NLPD distance",
        ]
        drawn.canvas.draw()
        renderer = drawn.canvas.get_renderer()
        # the genre ticks of one panel stay above the next panel
        for upper, lower in zip(drawn.axes, drawn.axes[1:], strict=False):
            ticks = upper.get_xticklabels()
            bottom = min(t.get_window_extent(renderer).y0 for t in ticks)
            assert bottom > lower.get_window_extent(renderer).y1
    finally:
        plt.close(drawn)


def test_claims_forest_has_one_row_per_claim_and_marks_the_adjusted() -> None:
    rows = [
        ("MSE: AE+LR beats KNN (paper)", "mse", "MSE", "paper", 0.1, 0.02, 0.2, 0.01, True, "s"),
        (
            "NLPD: AE+LR beats KNN (paper)",
            "nlpd",
            "NLPD",
            "paper",
            -0.05,
            -0.2,
            0.1,
            0.6,
            False,
            "l",
        ),
    ]
    cols = ("claim", "metric", "label", "kind", "diff", "low", "high", "p_holm", "holm_significant")
    fig_data = FigureData(
        "fig7-claims", "Claims", "forest", {"claims": Table((*cols, "verdict"), rows)}
    )
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from percmusic_cli.render.figures import DRAW

    fig = DRAW["forest"](fig_data, plt)
    try:
        (ax,) = fig.axes
        assert [t.get_text() for t in ax.get_yticklabels()] == [r[0] for r in reversed(rows)]
        faces = [ln.get_markerfacecolor() for ln in ax.lines if ln.get_marker() == "o"]
        assert faces == ["w", "k"]  # bottom-up: the unresolved NLPD row open, MSE filled
    finally:
        plt.close(fig)
