"""SVG snapshots of each screen at 80 x 24 and at 160 x 48 on the fixture store (regenerate with
`pytest tests/tui --snapshot-update` and review the diff). Study figures:
Fig. 1 -> test_distances_fig1, Fig. 2 -> test_run_curve_fig2,
Fig. 3 / Fig. 4 -> test_run_confusion_fig3 (KNN; latent runs use the same view).

The fixture store's screens are photographed on one tour per size (`TOUR`): one app session
that presses its way from each snapshot to the next, a screen first shown when the tour reaches
it. A fresh app per snapshot draws the same SVGs (the stored ones were made that way) at twice
the cost, almost all of it Textual mounting the overview and the screens on the way again."""

from __future__ import annotations

import asyncio
import inspect
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pilots import settle
from pytest_textual_snapshot import (
    PseudoApp,
    PseudoConsole,
    SVGImageExtension,
    node_to_report_path,
)
from rich.console import Console
from syrupy.assertion import SnapshotAssertion
from textual.pilot import Pilot

from percmusic_cli.errors import StoreLockedError
from percmusic_cli.store import Store
from percmusic_cli.tui.app import Dashboard, build_app

Snap = Callable[..., bool]
Matches = Callable[[str], bool]

# snapshot -> the keys that lead to it from the one before (from the overview, for the first)
TOUR: dict[str, tuple[str, ...]] = {
    "overview": (),
    "results": ("2",),
    "run_confusion_fig3": ("enter", "m"),  # the first run's detail, over Results
    "run_f1_bars": ("f",),
    "run_curve_fig2": ("k",),
    "compare": ("escape", "space", "down", "space", "down", "space", "c"),  # three runs marked
    "distances_fig1": ("3",),
    "distances_genres_scrolled": ("j", "j"),
    "training": ("4",),
    "tracks": ("5", "down", "down"),
}


@pytest.fixture(scope="module", params=[(80, 24), (160, 48)], ids=["80x24", "160x48"])
def size(request: pytest.FixtureRequest) -> tuple[int, int]:
    return tuple(request.param)  # type: ignore[return-value]


def after(*keys: str) -> Callable[[Pilot[Any]], Any]:
    async def run(pilot: Pilot[Any]) -> None:
        await settle(pilot, *keys)

    return run


async def screenshot(pilot: Pilot[Any], title: str) -> str:
    """The screen as SVG, after the same waits as pytest-textual-snapshot's `snap_compare`."""
    await pilot.pause()
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()
    await pilot.pause()
    await pilot.wait_for_scheduled_animations()
    return pilot.app.export_screenshot(title=title, simplify=True)


def take_tour(app: Dashboard, size: tuple[int, int]) -> dict[str, str]:
    """Each snapshot of `TOUR`, in one app session."""
    shots: dict[str, str] = {}
    title = app.title  # as snap_compare names the SVG's window: the title before the run

    async def tour(pilot: Pilot[Any]) -> None:
        for name, keys in TOUR.items():
            await settle(pilot, *keys)
            shots[name] = await screenshot(pilot, title)
        app.exit()

    asyncio.run(app.run_async(headless=True, size=size, auto_pilot=tour))
    if app.crash is not None:
        raise app.crash
    return shots


@pytest.fixture(scope="module")
def tour(size: tuple[int, int], fixture_home: Path) -> dict[str, str]:
    """The snapshots of `TOUR` at `size` (the store by a relative path, for stable SVGs)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(fixture_home)
        return take_tour(build_app(Store(Path("store"))), size)


@pytest.fixture
def matches(snapshot: SnapshotAssertion, request: pytest.FixtureRequest) -> Matches:
    """`snap_compare` for an SVG already taken: compares it with the test's stored snapshot
    and leaves the pair for pytest-textual-snapshot's HTML report, as `snap_compare` does."""
    svg_snapshot = snapshot.use_extension(SVGImageExtension)

    def compare(svg: str) -> bool:
        result = svg_snapshot == svg
        done = svg_snapshot.executions.get(svg_snapshot.num_executions - 1)
        console = Console(legacy_windows=False, force_terminal=True)
        path, line, name = request.node.reportinfo()
        report = (
            result,
            str(svg_snapshot),
            svg,
            PseudoApp(PseudoConsole(console.legacy_windows, console.size)),
            path,
            line,
            name,
            inspect.getdoc(request.node.function) or "",
            "",
            done is not None and done.final_data is not None,
        )
        node_to_report_path(request.node).write_bytes(pickle.dumps(report))
        return result

    return compare


def shot(tour: dict[str, str], name: str) -> str:
    assert name in tour, f"the tour stopped before {name}"
    return tour[name]


def test_overview(tour: dict[str, str], matches: Matches) -> None:
    assert matches(shot(tour, "overview"))


def test_results(tour: dict[str, str], matches: Matches) -> None:
    assert matches(shot(tour, "results"))


def test_compare(tour: dict[str, str], matches: Matches) -> None:
    assert matches(shot(tour, "compare"))


def test_run_confusion_fig3(tour: dict[str, str], matches: Matches) -> None:
    assert matches(shot(tour, "run_confusion_fig3"))


def test_run_f1_bars(tour: dict[str, str], matches: Matches) -> None:
    assert matches(shot(tour, "run_f1_bars"))


def test_run_curve_fig2(tour: dict[str, str], matches: Matches) -> None:
    assert matches(shot(tour, "run_curve_fig2"))


def test_distances_fig1(tour: dict[str, str], matches: Matches) -> None:
    assert matches(shot(tour, "distances_fig1"))


def test_distances_genres_scrolled(tour: dict[str, str], matches: Matches) -> None:
    assert matches(shot(tour, "distances_genres_scrolled"))


def test_training(tour: dict[str, str], matches: Matches) -> None:
    assert matches(shot(tour, "training"))


def test_tracks(tour: dict[str, str], matches: Matches) -> None:
    assert matches(shot(tour, "tracks"))


def test_empty_store(
    snap_compare: Snap, size: tuple[int, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    app = build_app(Store(Path("empty")))
    assert snap_compare(app, terminal_size=size, run_before=after())


def test_locked_store(
    snap_compare: Snap, size: tuple[int, int], fixture_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    def locked(self: Store, read_only: bool = False) -> Any:
        raise StoreLockedError(f"store database {self.db_path} is locked by PID 4242")

    monkeypatch.setattr(Store, "connect", locked)
    assert snap_compare(build_app(fixture_store), terminal_size=size, run_before=after())
