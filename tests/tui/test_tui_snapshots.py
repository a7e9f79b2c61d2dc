"""SVG snapshots of each screen at 80 x 24 and at 160 x 48 on the fixture store (regenerate with
`pytest tests/tui --snapshot-update` and review the diff). Study figures:
Fig. 1 -> test_distances_fig1, Fig. 2 -> test_run_curve_fig2,
Fig. 3 / Fig. 4 -> test_run_confusion_fig3 (KNN; latent runs use the same view)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from percmusic_cli.errors import StoreLockedError
from percmusic_cli.store import Store
from percmusic_cli.tui.app import build_app

Snap = Callable[..., bool]


@pytest.fixture(params=[(80, 24), (160, 48)], ids=["80x24", "160x48"])
def size(request: pytest.FixtureRequest) -> tuple[int, int]:
    return tuple(request.param)  # type: ignore[return-value]


def after(*keys: str) -> Callable[[Pilot[Any]], Any]:
    """Press `keys`, letting every worker finish after each one."""

    async def run(pilot: Pilot[Any]) -> None:
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        for key in keys:
            await pilot.press(key)
            await pilot.app.workers.wait_for_complete()
            await pilot.pause()

    return run


def test_overview(snap_compare: Snap, size: tuple[int, int], fixture_store: Store) -> None:
    assert snap_compare(build_app(fixture_store), terminal_size=size, run_before=after())


def test_results(snap_compare: Snap, size: tuple[int, int], fixture_store: Store) -> None:
    assert snap_compare(build_app(fixture_store), terminal_size=size, run_before=after("2"))


def test_compare(snap_compare: Snap, size: tuple[int, int], fixture_store: Store) -> None:
    keys = ("2", "space", "down", "space", "down", "space", "c")
    assert snap_compare(build_app(fixture_store), terminal_size=size, run_before=after(*keys))


def test_run_confusion_fig3(
    snap_compare: Snap, size: tuple[int, int], fixture_store: Store
) -> None:
    keys = ("2", "enter", "m")
    assert snap_compare(build_app(fixture_store), terminal_size=size, run_before=after(*keys))


def test_run_f1_bars(snap_compare: Snap, size: tuple[int, int], fixture_store: Store) -> None:
    keys = ("2", "enter", "f")
    assert snap_compare(build_app(fixture_store), terminal_size=size, run_before=after(*keys))


def test_run_curve_fig2(snap_compare: Snap, size: tuple[int, int], fixture_store: Store) -> None:
    keys = ("2", "enter", "k")
    assert snap_compare(build_app(fixture_store), terminal_size=size, run_before=after(*keys))


def test_distances_fig1(snap_compare: Snap, size: tuple[int, int], fixture_store: Store) -> None:
    assert snap_compare(build_app(fixture_store), terminal_size=size, run_before=after("3"))


def test_distances_genres_scrolled(
    snap_compare: Snap, size: tuple[int, int], fixture_store: Store
) -> None:
    keys = ("3", "j", "j")
    assert snap_compare(build_app(fixture_store), terminal_size=size, run_before=after(*keys))


def test_training(snap_compare: Snap, size: tuple[int, int], fixture_store: Store) -> None:
    assert snap_compare(build_app(fixture_store), terminal_size=size, run_before=after("4"))


def test_tracks(snap_compare: Snap, size: tuple[int, int], fixture_store: Store) -> None:
    keys = ("5", "down", "down")
    assert snap_compare(build_app(fixture_store), terminal_size=size, run_before=after(*keys))


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
