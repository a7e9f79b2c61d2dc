"""The dashboard at 80 x 24: Quit stays in the footer, the pooled distance comparison comes
first and the genres scroll, the sort column is marked, compare columns name runs,
confusion titles name the classifier, and screenshots land in the store's figures/."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from pilots import settle, sync
from rich.console import Console
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Static
from textual.widgets._footer import FooterKey

from percmusic_cli.store import Store
from percmusic_cli.tui.app import build_app
from percmusic_cli.tui.screens.compare import CompareScreen
from percmusic_cli.tui.screens.distances import DistancesScreen
from percmusic_cli.tui.screens.results import ResultsScreen
from percmusic_cli.tui.screens.run_detail import RunDetailScreen

SIZE = (80, 24)


def rendered(widget: Static) -> str:
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(widget.content)
    return console.export_text()


@sync
async def test_at_80_columns(fixture_store: Store) -> None:
    """The checks below in one app session (each screen opened once, as a user would): the
    session costs far less than one app per check, and each check starts from what it needs
    (the runs marked and compared before the sort changes their order)."""
    app = build_app(fixture_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, "1")
        quit_is_in_the_footer(app, ("1",))
        await settle(pilot, "2")
        quit_is_in_the_footer(app, ("2",))
        await compare_columns_name_runs_and_confusion_names_the_classifier(app, pilot)
        quit_is_in_the_footer(app, ("2", "enter"))
        await settle(pilot, "escape")
        await sort_column_is_marked_in_the_header(app, pilot)
        await settle(pilot, "3")
        quit_is_in_the_footer(app, ("3",))
        await distances_pooled_first_genres_scroll_and_metric_resets(app, pilot)
        for key in ("4", "5"):
            await settle(pilot, key)
            quit_is_in_the_footer(app, (key,))


def quit_is_in_the_footer(app: Any, keys: tuple[str, ...]) -> None:
    quit_keys = [k for k in app.screen.query(FooterKey) if k.key == "q"]
    assert quit_keys, keys
    region = quit_keys[0].region
    assert region.width > 0 and region.right <= SIZE[0], (keys, region)


async def distances_pooled_first_genres_scroll_and_metric_resets(app: Any, pilot: Any) -> None:
    screen = app.screen
    assert isinstance(screen, DistancesScreen)
    pooled = {r["group"]: r for r in screen.groups["mse"] if r.get("pooled")}
    assert pooled["pooled within"]["n"] == 4 * 15
    assert pooled["pooled between"]["n"] == 24 * 23 // 2 - 60
    first = pooled["pooled within"]
    assert 0.5 < first["auc"] <= 1 and first["ratio"] > 1
    plot = screen.query_one("#pooled")
    assert plot.region.bottom <= SIZE[1] - 1  # whole, above the footer, no scrolling
    scroll = screen.query_one("#dist-scroll", VerticalScroll)
    assert plot.region.y < scroll.region.y
    await settle(pilot, "j", "j")
    assert scroll.scroll_y > 0
    await settle(pilot, "m")
    assert screen.metric == "msssim" and scroll.scroll_y == 0
    assert any(k.key == "j" and k.description == "Genres" for k in screen.query(FooterKey))


async def sort_column_is_marked_in_the_header(app: Any, pilot: Any) -> None:
    screen = app.screen
    assert isinstance(screen, ResultsScreen)
    table = screen.query_one("#runs", DataTable)

    def headers() -> list[str]:
        return [str(c.label) for c in table.columns.values()]

    assert "date ▲" in headers()
    await settle(pilot, "s")
    assert "run ▲" in headers() and "date" in headers()
    await settle(pilot, "s")  # the columns' order: run -> test F1 -> valid
    assert "test F1 [95% CI] ▼" in headers()  # scores sort best first
    await settle(pilot, "s")
    assert "valid ▼" in headers()


async def compare_columns_name_runs_and_confusion_names_the_classifier(
    app: Any, pilot: Any
) -> None:
    await settle(pilot, "space", "down", "space", "c")
    assert isinstance(app.screen, CompareScreen)
    text = rendered(app.screen.query_one("#compare", Static))
    assert "knn-mse-00000000" in text and "knn-msssim-00000001" in text
    await settle(pilot, "escape", "enter", "m")
    assert isinstance(app.screen, RunDetailScreen)
    grid = rendered(app.screen.query_one("#confusion-grid", Static))
    assert grid.startswith("KNN msssim: confusion on test")  # the cursor row


@sync
async def test_screenshot_goes_to_the_store_figures_folder(
    fixture_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home-without-downloads"))
    app = build_app(fixture_store, figures_dir=tmp_path / "figs")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, "ctrl+s")
        saved = list((tmp_path / "figs").glob("*.svg"))
        assert len(saved) == 1
        messages = [n.message for n in app._notifications]
        assert messages == [f"screenshot saved to {saved[0]}"]
