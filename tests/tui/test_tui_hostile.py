"""Issue 19 item 2: no stored name crashes a screen. The store's labels (and so track ids,
paths and confusion headers) hold markup that Rich or Textual would parse; every screen and a
run's every tab is opened, and every name must show as written."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from fixture_store import build_store
from pilots import settle
from rich.text import Text
from textual.markup import MarkupError
from textual.widgets import DataTable, Static

from percmusic_cli.render import safe
from percmusic_cli.store import Store
from percmusic_cli.tui import app as tui_app
from percmusic_cli.tui.app import build_app
from percmusic_cli.tui.screens.results import ResultsScreen
from percmusic_cli.tui.screens.tracks import TracksScreen

HOSTILE_LABELS = [
    ("[", "a[", "[[", "blues"),  # issue 19: "[/j0 ([, valid)" read as a closing tag
    ("[bold]x", "y[/]", "[/a[", "\\["),
    ("[link=x]z", "@[#f00]", "q\\", "]["),
    ("esc\x1b[31m", "new\nline", ":smile:", "[on red]w"),
]
# One store holds every label above: the screens cost the same to open for 16 labels as for 4,
# and one walk instead of four is most of this file's time saved.
ALL_LABELS = tuple(label for labels in HOSTILE_LABELS for label in labels)
# Tall enough that the Tracks table draws all 97 rows, so every label is drawn there.
SIZE = (120, 110)


def _plain(widget: Static) -> str:
    content = widget.content
    return content.plain if isinstance(content, Text) else str(content)


def test_every_screen_opens_with_hostile_labels(tmp_path: Path) -> None:
    store = build_store(tmp_path / "store", ALL_LABELS)
    asyncio.run(_walk(store))


def _caption_is_as_written(tracks: TracksScreen) -> None:
    caption = _plain(tracks.query_one("#track-caption", Static))
    assert tracks.shown is not None
    track = next(t for t in tracks.tracks if t["track_id"] == tracks.shown.track_id)
    # shown as written, not read as markup
    assert caption == safe.shown(f"{track['track_id']} ({track['label']}, {track['part']})")


async def _walk(store: Store) -> None:
    app = build_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, "5", "enter", "down", "down")
        tracks = app.screen
        assert isinstance(tracks, TracksScreen)
        table = tracks.query_one("#tracks", DataTable)
        assert table.row_count == len(ALL_LABELS) * 6 + 1 <= table.size.height - 1  # all drawn
        _caption_is_as_written(tracks)
        # and one track of every label
        rows = {t["label"]: i for i, t in reversed(list(enumerate(tracks.shown_tracks())))}
        assert set(rows) == set(ALL_LABELS)
        for label, row in rows.items():
            table.move_cursor(row=row)
            await settle(pilot)
            assert tracks.shown is not None and tracks.shown.track_id.startswith(label + "/")
            _caption_is_as_written(tracks)
        await settle(pilot, "1", "3", "m", "4", "6", "2")
        results = app.screen
        assert isinstance(results, ResultsScreen)
        await settle(pilot, "space", "down", "space", "c")  # two runs side by side
        await settle(pilot, "escape", "enter")  # one run, every tab
        await settle(pilot, "m", "f", "k", "x", "s", "escape")
        assert app.crash is None and app.return_code is None


def test_a_crash_is_kept_for_the_cli_not_printed_as_a_traceback(tmp_path: Path) -> None:
    app = build_app(Store(tmp_path / "store"))

    def boom() -> None:
        raise MarkupError("closing tag '[/x]' does not match any open tag")

    async def run() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            app.call_later(boom)
            await pilot.pause()

    with pytest.raises(MarkupError):
        asyncio.run(run())
    assert isinstance(app.crash, MarkupError)
    assert app.return_code == 1
    assert not app._exit_renderables  # no traceback printed after the app closes


def test_run_dashboard_raises_what_stopped_the_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    error = MarkupError("closing tag '[/j0 ([, valid)]' does not match any open tag")

    def crashed_run(self: tui_app.Dashboard) -> None:
        self.crash = error

    monkeypatch.setattr(tui_app.Dashboard, "run", crashed_run)
    with pytest.raises(MarkupError) as caught:
        tui_app.run_dashboard(Store(tmp_path / "store"))
    assert caught.value is error
