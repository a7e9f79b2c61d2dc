"""The nearest-centroid classifier (percmusic_cli/classifiers/centroid.py): its rule on tiny
matrices, and its runs in `results`, `compare`, the figures and the dashboard with nothing
but its module registered (the generic distance step runs it)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest
from clitools import Cli
from fixture_store import LABELS, StoreCopies
from pilots import settle
from textual.widgets import DataTable, Static
from typer.testing import CliRunner

from percmusic_cli import api
from percmusic_cli.classifiers import registry
from percmusic_cli.classifiers.centroid import CentroidConfig, class_distances, fit
from percmusic_cli.config import DistanceConfig
from percmusic_cli.errors import DataError, UsageError
from percmusic_cli.steps.distance_classifier import run_distance_classifier
from percmusic_cli.steps.views import split_view
from percmusic_cli.store import Store


def test_class_distance_is_the_power_mean_over_each_class() -> None:
    d = np.array([[1.0, 3.0, 10.0], [4.0, 0.0, 2.0]])
    got = class_distances(d, np.array([0, 0, 1]), 3, 1.0)
    np.testing.assert_allclose(got[:, :2], [[2.0, 10.0], [2.0, 2.0]])
    assert np.isinf(got[:, 2]).all()  # a class without training tracks is never nearest
    squared = class_distances(d, np.array([0, 0, 1]), 2, 2.0)
    np.testing.assert_allclose(squared[:, 0], [np.sqrt(5.0), np.sqrt(8.0)])


def _loop_predict(d: np.ndarray, fit_labels: list[str], space: list[str], p: float) -> list[str]:
    """The rule written out: mean of d**p per class, the smallest wins (first on ties)."""
    out = []
    for row in d:
        best, best_label = np.inf, ""
        for label in space:
            values = [row[j] ** p for j, y in enumerate(fit_labels) if y == label]
            score = np.mean(values) ** (1 / p) if values else np.inf
            if score < best:
                best, best_label = score, label
        out.append(best_label)
    return out


def test_fit_chooses_the_power_on_valid_and_predicts_by_the_nearest_class() -> None:
    rng = np.random.default_rng(4)
    labels = {
        "train": ["a", "a", "b", "b", "c", "c"],
        "valid": ["a", "b", "c", "a"],
        "test": ["a", "b", "c", "c", "b"],
    }
    blocks = {
        part: rng.random((len(ys), len(labels["train"])))
        for part, ys in labels.items()
        if part != "train"
    }
    result = fit(
        lambda rows, cols: blocks[rows], labels, CentroidConfig(powers=(1.0, 3.0), n_boot=20)
    )
    curve = result.curve
    assert curve.param == "p" and curve.values == [1.0, 3.0] and curve.method == "valid"
    for p, score in zip(curve.values, curve.scores, strict=True):
        valid_pred = _loop_predict(blocks["valid"], labels["train"], ["a", "b", "c"], p)
        right = [t == q for t, q in zip(labels["valid"], valid_pred, strict=True)]
        assert (score == 1.0) == all(right)
    assert curve.scores[curve.values.index(curve.chosen)] == max(curve.scores)
    expected = _loop_predict(blocks["test"], labels["train"], ["a", "b", "c"], curve.chosen)
    assert [p.pred for p in result.predictions] == expected
    hits = sum(t == q for t, q in zip(labels["test"], expected, strict=True))
    assert result.evaluation.accuracy == pytest.approx(hits / len(expected))


def test_bad_settings_and_missing_parts_are_one_line_errors() -> None:
    with pytest.raises(UsageError, match="positive finite"):
        CentroidConfig(powers=())
    with pytest.raises(UsageError, match="positive finite"):
        CentroidConfig(powers=(1.0, -2.0))
    with pytest.raises(DataError, match="'valid'"):
        fit(lambda r, c: np.zeros((1, 1)), {"train": ["a"], "test": ["a"]}, CentroidConfig())


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, store_copies: StoreCopies) -> Store:
    """The dashboard's fixture store (three KNN runs) plus two nearest-centroid runs."""
    store = store_copies.copy(tmp_path_factory.mktemp("centroid") / "store")
    view = split_view(store, "fixture")
    with store.writer(0.0, "test"):
        rows = run_distance_classifier(
            store, view, "centroid", ["mse", "nlpd"], DistanceConfig(), CentroidConfig(n_boot=50)
        )
    assert [r["reused"] for r in rows] == [False, False]
    return store


def test_the_spec_is_registered_with_nothing_else_changed() -> None:
    assert registry.names()[:2] == ("knn", "latent") and "centroid" in registry.names()
    assert "centroid" in api.run_kinds()
    assert api.classifier_labels()["centroid"] == "NC"
    assert api.classifier_params()["centroid"] == "p"


def test_runs_are_stored_as_their_kind_and_reused(store: Store) -> None:
    listed = api.results(store, kind="centroid")
    assert sorted(r["metric"] for r in listed) == ["mse", "nlpd"]
    assert all(r["run_id"].startswith("centroid-") and r["param_name"] == "p" for r in listed)
    assert all(r["param"] in (1.0, 2.0) and 0.0 <= r["test_f1"] <= 1.0 for r in listed)
    view = split_view(store, "fixture")
    with store.writer(0.0, "test"):
        again = run_distance_classifier(
            store, view, "centroid", ["mse"], DistanceConfig(), CentroidConfig(n_boot=50)
        )
    assert again[0]["reused"] and again[0]["run_id"] in {r["run_id"] for r in listed}


def test_results_and_compare_show_the_runs(store: Store) -> None:
    cli = Cli(store.root, CliRunner())
    runs = cli.json("results", "--kind", "centroid")
    assert len(runs) == 2
    table = cli("results").stdout
    assert all(r["run_id"] in table for r in runs) and "p=" in table
    knn = cli.json("results", "--kind", "knn", "--metric", "mse")[0]["run_id"]
    centroid = next(r["run_id"] for r in runs if r["metric"] == "mse")
    (pair,) = cli.json("compare", knn, centroid, "--n-boot", "200")["pairs"]
    assert (pair["a"], pair["b"]) == (knn, centroid)
    right = {}
    for run_id in (knn, centroid):
        shown = cli.json("results", "show", run_id)["predictions"]
        right[run_id] = {p["track_id"] for p in shown if p["true_label"] == p["pred_label"]}
    assert pair["b_only_right"] == len(right[centroid] - right[knn])
    assert pair["a_only_right"] == len(right[knn] - right[centroid])


def test_figures_draw_its_confusions_and_list_it(store: Store, tmp_path: Path) -> None:
    figures = {f.name: f for f in api.figure_data(store)}
    confusion = figures["fig-centroid-confusion"]
    assert confusion.title.startswith("NC: confusion matrices (test), summed over")
    counts: dict[str, int] = {}
    for arm, _, _, _, count, _ in confusion.tables["confusion"].rows:
        counts[arm] = counts.get(arm, 0) + count
    n_test = len(split_view(store, "fixture").ids("test"))
    assert len(counts) == 2 and set(counts.values()) == {n_test}
    table = figures["fig6-study-table"].tables["table"]
    assert sum(str(row[0]).startswith("NC: ") for row in table.rows) == 2
    assert not any(
        r[0].startswith("centroid") for r in figures["fig2-f1-vs-k"].tables["curve"].rows
    )
    written = Cli(store.root, CliRunner()).json(
        "figures", "--out", str(tmp_path), "--format", "svg"
    )
    assert {Path(p).name for p in written} >= {
        "fig-centroid-confusion.svg",
        "fig-centroid-confusion.csv",
    }


def test_the_dashboard_lists_and_opens_a_run(store: Store) -> None:
    from percmusic_cli.tui.app import build_app
    from percmusic_cli.tui.screens.results import ResultsScreen
    from percmusic_cli.tui.screens.run_detail import RunDetailScreen

    async def drive() -> None:
        app = build_app(store)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot, "2")
            screen = app.screen
            assert isinstance(screen, ResultsScreen)
            table = screen.query_one("#runs", DataTable)
            assert table.row_count == 5  # three KNN runs and the two centroid runs
            screen.words = ["kind:centroid", "nlpd"]
            screen.refresh_table()
            assert table.row_count == 1
            table.move_cursor(row=0)
            await settle(pilot, "enter")
            detail = app.screen
            assert isinstance(detail, RunDetailScreen) and detail.run is not None
            assert detail.run["kind"] == "centroid" and detail.run["name"] == "nlpd"
            grid = detail.query_one("#confusion-grid", Static).content
            assert "NC nlpd: confusion on test" in str(getattr(grid, "title", ""))
            assert {p["true_label"] for p in detail.run["predictions"]} <= set(LABELS)

    asyncio.run(drive())
