"""Pilot tests: each screen on the fixture store, asserting on state and on the messages the
workers post; an empty store and a locked store show a notice instead of crashing."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from fixture_store import StoreCopies
from pilots import settle, sync
from textual.widgets import DataTable, Static, TabbedContent

from percmusic_cli.errors import StoreLockedError
from percmusic_cli.store import Store
from percmusic_cli.tui.app import build_app
from percmusic_cli.tui.messages import LoadFailed, TrackLoaded
from percmusic_cli.tui.screens.claims import ClaimsScreen
from percmusic_cli.tui.screens.compare import CompareScreen
from percmusic_cli.tui.screens.distances import DistancesScreen
from percmusic_cli.tui.screens.overview import OverviewScreen
from percmusic_cli.tui.screens.results import ResultsScreen
from percmusic_cli.tui.screens.run_detail import RunDetailScreen
from percmusic_cli.tui.screens.tracks import TracksScreen
from percmusic_cli.tui.screens.training import TrainingScreen

SIZE = (80, 24)


@sync
async def test_overview_counts_tracks_per_label(fixture_store: Store) -> None:
    app = build_app(fixture_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, OverviewScreen)
        ds = screen.status["datasets"][0]
        assert {r["label"]: r["ok"] for r in ds["labels"]} == {
            "blues": 6,
            "classical": 6,
            "jazz": 6,
            "rock": 6,
        }
        assert [e["reason"] for e in ds["errors"]] == ["not a recognised audio format"]


@sync
async def test_results_sort_filter_mark_compare_and_open(fixture_store: Store) -> None:
    app = build_app(fixture_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, "2")
        screen = app.screen
        assert isinstance(screen, ResultsScreen)
        table = screen.query_one("#runs", DataTable)
        assert table.row_count == 3
        screen.words = ["nlpd"]
        screen.refresh_table()
        assert table.row_count == 1
        screen.words = []
        screen.refresh_table()
        await pilot.press("s")  # date -> run
        assert screen.sort_column == "run"
        ids = [r["run_id"] for r in screen.shown_runs()]
        assert ids == sorted(ids)
        await pilot.press("c")  # nothing marked: a warning, no new screen
        assert app.screen is screen
        table.move_cursor(row=0)
        await pilot.press("space", "down", "space")
        assert len(screen.marked) == 2
        await settle(pilot, "c")
        assert isinstance(app.screen, CompareScreen)
        assert [r["run_id"] for r in app.screen.runs] == screen.marked
        paired = app.screen.paired  # the fixture's runs share their test tracks
        assert paired is not None and len(paired["pairs"]) == 1
        assert {paired["pairs"][0]["a"], paired["pairs"][0]["b"]} == set(screen.marked)
        await settle(pilot, "escape", "enter")
        detail = app.screen
        assert isinstance(detail, RunDetailScreen)
        assert detail.run is not None and detail.run["run_id"] == screen.current_run()
        await pilot.press("k")
        assert detail.query_one("#tabs", TabbedContent).active == "curve"
        errors = detail.query_one("#errors-table", DataTable)
        wrong = [p for p in detail.run["predictions"] if p["true_label"] != p["pred_label"]]
        assert errors.row_count == len(wrong) > 0


@sync
async def test_distances_switch_metric(fixture_store: Store) -> None:
    app = build_app(fixture_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, "3")
        screen = app.screen
        assert isinstance(screen, DistancesScreen)
        # The stored Fig. 1 rows, as `distances stats` wrote them: no recomputation.
        counts = {r["group"]: r["n"] for r in screen.groups["mse"] if not r.get("pooled")}
        assert counts == {"blues": 15, "classical": 15, "jazz": 15, "rock": 15, "all": 24 * 23 // 2}
        assert screen.labels["msssim"] == "1 - MS-SSIM"
        await pilot.press("m")
        assert screen.metric == "msssim"


@sync
async def test_training_lists_model_and_history(fixture_store: Store) -> None:
    app = build_app(fixture_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, "4")
        screen = app.screen
        assert isinstance(screen, TrainingScreen)
        assert screen.selected == "ae-mse-noise-0000beef"
        history = screen.histories["ae-mse-noise-0000beef"]
        assert len(history) == 60 and history[0][1] > history[-1][1]
        assert screen.timer is None  # nothing is training: no live refresh
        model = screen.models[0]
        assert model["loss_ratio"] == pytest.approx(0.96)
        table = screen.query_one("#models", DataTable)
        assert "did not learn" in str(table.get_row_at(0)[-1])


@sync
async def test_claims_screen_shows_the_last_study(
    tmp_path: Path, store_copies: StoreCopies
) -> None:
    from percmusic_cli.store.studies import save_study

    # A copy: the study it writes must not reach the other tests' shared store.
    store = store_copies.copy(tmp_path / "store")

    claim = {
        "claim": "AE+LR beats KNN (MSE)",
        "kind": "ae-vs-knn",
        "metric": "mse",
        "diff": 0.31,
        "low": 0.09,
        "high": 0.49,
        "p": 0.004,
        "p_holm": 0.02,
        "verdict": "supported",
        "loss_ratio": 0.96,
        "not_learned": 1,
        "n_models": 1,
    }
    study = {"dataset": "fixture", "split": "s", "preset": "quick", "seeds": 1, "folds": 1}
    study |= {"rows": [], "controls": [], "claims": [claim]}
    app = build_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, "6")
        assert isinstance(app.screen, ClaimsScreen)
        assert "no study yet" in str(app.screen.query_one("#claims", Static).render())
        with store.connect() as con:
            save_study(con, "x", study)
        await settle(pilot, "r")
        assert app.screen.study is not None and app.screen.study["claims"] == [claim]
        from rich.console import Console

        console = Console(width=80, record=True, file=io.StringIO())
        for table in app.screen.shown:
            console.print(table)
        text = console.export_text()
        assert "AE+LR" in text and "supported" in text and "+0.310" in text and "0.96" in text


@sync
async def test_tracks_filter_and_selected_track(fixture_store: Store) -> None:
    app = build_app(fixture_store)
    seen: list[TrackLoaded] = []
    async with app.run_test(
        size=SIZE, message_hook=lambda m: seen.append(m) if isinstance(m, TrackLoaded) else None
    ) as pilot:
        await settle(pilot, "5")
        screen = app.screen
        assert isinstance(screen, TracksScreen)
        assert len(screen.shown_tracks()) == 25
        screen.words = ["jazz", "split=test"]
        screen.refresh_table()
        assert [t["track_id"] for t in screen.shown_tracks()] == [
            "jazz/jazz.00004",
            "jazz/jazz.00005",
        ]
        screen.query_one("#tracks", DataTable).move_cursor(row=1)
        await settle(pilot)
        assert seen and seen[-1].track_id == "jazz/jazz.00005"
        assert seen[-1].image.shape == (32, 48)
        assert set(seen[-1].neighbours) == {"mse", "msssim", "nlpd"}
        assert "jazz.00005" in str(screen.query_one("#track-caption", Static).render())


@sync
async def test_empty_store_says_so(tmp_path: Path) -> None:
    app = build_app(Store(tmp_path / "nothing"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, OverviewScreen)
        assert screen.failure is not None and screen.failure.kind == "empty"
        assert screen.has_class("failed")


@sync
async def test_locked_store_says_so_and_retries(
    fixture_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = Store.connect

    def locked(self: Store, read_only: bool = False):  # type: ignore[no-untyped-def]
        raise StoreLockedError(f"store database {self.db_path} is locked by PID 4242")

    monkeypatch.setattr(Store, "connect", locked)
    failures: list[LoadFailed] = []
    app = build_app(fixture_store)
    async with app.run_test(
        size=SIZE, message_hook=lambda m: failures.append(m) if isinstance(m, LoadFailed) else None
    ) as pilot:
        await settle(pilot)
        assert failures and failures[0].kind == "locked" and "PID 4242" in failures[0].text
        assert app.screen.has_class("failed")
        monkeypatch.setattr(Store, "connect", real)
        await settle(pilot, "r")
        assert not app.screen.has_class("failed")
        assert isinstance(app.screen, OverviewScreen) and app.screen.status["exists"]


def test_results_filter_fields_are_validated_like_the_cli() -> None:
    from percmusic_cli.tui.screens.results import matches, parse_filter

    runs = [
        {"run_id": "knn-mse-1", "kind": "knn", "metric": "mse", "split": "fault-filtered"},
        {"run_id": "latent-raw-1", "kind": "latent", "metric": "raw", "split": "random-s0"},
    ]
    from percmusic_cli import api, metric_names

    kinds = ", ".join(api.run_kinds())  # the registered classifiers: knn, latent, ...
    assert kinds.startswith("knn, latent")
    assert parse_filter("kind:KNN", runs)[1] == f"unknown kind 'KNN': choose one of {kinds}"

    listed = ", ".join([*metric_names.names(), "raw"])
    assert parse_filter("metric:foo", runs)[1] == f"unknown metric 'foo': choose one of {listed}"
    assert "fault-filtered, random-s0" in str(parse_filter("split:x", runs)[1])
    words, error = parse_filter("split:random-s0 RAW", runs)
    assert error is None
    assert [r for r in runs if matches(r, words)] == [runs[1]]


def test_f1_bars_show_na_for_a_class_without_test_items() -> None:
    from percmusic_cli.experiments.report import ClassScore
    from percmusic_cli.tui.widgets import f1_bars

    nan = float("nan")
    text = f1_bars(
        [ClassScore("jazz", 1.0, 0.5, 0.667, 2), ClassScore("pop", nan, nan, nan, 0)], 40
    )
    lines = text.plain.splitlines()
    assert lines[0].endswith("0.667 n=2") and lines[1].endswith("n/a n=0")
    assert "█" not in lines[1]
