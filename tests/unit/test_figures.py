"""The figures' data from a stored study (snapshots of the tables each figure is drawn
from and written beside it as CSV; pixels are not compared), and the files written."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any

import pytest
from fixture_store import LABELS, MODEL_ID, PARTS, PER_LABEL, build_store
from typer.testing import CliRunner

from percmusic_cli import api
from percmusic_cli.cli.app import app
from percmusic_cli.render.figures import csv_text, write_figures
from percmusic_cli.steps import figures as fs
from percmusic_cli.steps.figures import FigureData, Table
from percmusic_cli.store import Store


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    return build_store(tmp_path_factory.mktemp("figures") / "store")


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
    per_run: dict[str, int] = {}
    for run_id, _metric, _true, _pred, count in table.rows:
        per_run[run_id] = per_run.get(run_id, 0) + count
    assert list(per_run.values()) == [len(LABELS) * PARTS.count("test")] * 3
    assert figures["fig4-lr-confusion"].tables["confusion"].rows == []  # no latent runs


def test_mse_loss_gets_the_one_twelfth_baseline_and_says_so(
    figures: dict[str, FigureData],
) -> None:
    fig = figures["fig5-training-loss"]
    assert fig.tables["baseline"].rows == [
        (MODEL_ID, "mse", 1 / 12, "1/12: MSE of predicting 0.5 for U(0,1) noise")
    ]
    assert len(fig.tables["loss"].rows) == 60


def test_a_recorded_baseline_wins_and_other_losses_have_none() -> None:
    assert fs._baseline({"loss": "nlpd", "baseline": 0.7}) == (0.7, "recorded")
    assert fs._baseline({"loss": "nlpd", "data": "noise"}) is None
    assert fs._baseline({"loss": "mse", "data": "spectrograms"}) is None


def test_named_runs_select_the_curves(store: Store) -> None:
    figs = {f.name: f for f in api.figure_data(store, ["knn-nlpd"])}
    assert {r[0] for r in figs["fig2-f1-vs-k"].tables["curve"].rows} == {"knn-nlpd-00000002"}
    assert [r[0] for r in figs["fig6-study-table"].tables["table"].rows] == ["knn-nlpd-00000002"]


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
    assert rows[0] == ["run_id", "metric", "true", "pred", "count"]
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
