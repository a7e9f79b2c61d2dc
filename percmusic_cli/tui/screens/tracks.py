"""Tracks: browse and filter by label, split part and status; the selected track shows its
log-mel spectrogram and its nearest neighbours under each metric, with their labels."""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, Input, Static

from percmusic_cli import api
from percmusic_cli.render import fmt, safe
from percmusic_cli.tui import tables
from percmusic_cli.tui.base import DataScreen, read
from percmusic_cli.tui.messages import TrackLoaded, TracksLoaded
from percmusic_cli.tui.widgets import Spectrogram

FIELDS = {
    "label": "label",
    "split": "part",
    "part": "part",
    "status": "status",
    "dataset": "dataset",
}
NEIGHBOURS = 3


def track_matches(track: dict[str, Any], words: list[str]) -> bool:
    """Each word either names a field (`label=blues`, `split=test`, `status=error`), equals
    the label, part, status or dataset, or occurs in the track id."""
    for word in words:
        if "=" in word:
            key, _, value = word.partition("=")
            if key not in FIELDS or str(track.get(FIELDS[key], "")).lower() != value:
                return False
        elif (
            word
            not in {str(track.get(k, "")).lower() for k in ("label", "part", "status", "dataset")}
            and word not in str(track["track_id"]).lower()
        ):
            return False
    return True


def short_id(track_id: str, label: str) -> str:
    """The id without a leading "label/" folder (the label has its own column)."""
    return track_id[len(label) + 1 :] if track_id.startswith(label + "/") else track_id


def row_key(track: dict[str, Any]) -> str:
    return f"{track['dataset']}\t{track['track_id']}"


class TracksScreen(DataScreen):
    """Tracks, a spectrogram and neighbours."""

    BINDINGS = [  # noqa: RUF012
        Binding("slash", "filter", "Filter"),
    ]
    DEFAULT_CSS = """
    TracksScreen #track-list { width: 1fr; }
    TracksScreen #track-side { width: 1fr; padding-left: 1; }
    TracksScreen #track-filter { height: 3; }
    TracksScreen #track-caption { height: 1; }
    TracksScreen #neighbours { height: 1fr; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.tracks: list[dict[str, Any]] = []
        self.words: list[str] = []
        self.shown: TrackLoaded | None = None

    def compose_body(self) -> ComposeResult:
        with Horizontal():
            with Vertical(id="track-list"):
                yield Input(
                    placeholder="filter: blues test label=x split=y status=error", id="track-filter"
                )
                table: DataTable[str] = DataTable(
                    cursor_type="row", zebra_stripes=True, id="tracks"
                )
                table.add_columns("track", "label", "part", "status")
                yield table
            with Vertical(id="track-side"):
                yield Static("select a track", id="track-caption")
                yield Spectrogram(id="spectrogram")
                nb: DataTable[str] = DataTable(cursor_type="row", id="neighbours")
                nb.add_columns("by", "neighbour", "label", "distance")
                yield nb

    def fetch(self) -> Message:
        return TracksLoaded(api.browse_tracks(self.store))

    def on_tracks_loaded(self, message: TracksLoaded) -> None:
        self.loaded()
        self.tracks = message.tracks
        self.refresh_table()
        self.query_one("#tracks", DataTable).focus()

    def shown_tracks(self) -> list[dict[str, Any]]:
        return [t for t in self.tracks if track_matches(t, self.words)]

    def refresh_table(self) -> None:
        table = self.query_one("#tracks", DataTable)
        rows: list[tables.Row] = [
            (
                [
                    safe.text(short_id(t["track_id"], t["label"])),
                    safe.text(t["label"]),
                    safe.text(t["part"]),
                    safe.text(t["status"]),
                ],
                row_key(t),
            )
            for t in self.shown_tracks()
        ]
        tables.fill(table, rows)

    @on(Input.Changed, "#track-filter")
    def filter_changed(self, event: Input.Changed) -> None:
        self.words = event.value.lower().split()
        self.refresh_table()

    @on(Input.Submitted, "#track-filter")
    def filter_done(self) -> None:
        self.query_one("#tracks", DataTable).focus()

    def action_filter(self) -> None:
        self.query_one("#track-filter", Input).focus()

    @on(DataTable.RowHighlighted, "#tracks")
    def track_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value:
            dataset, track_id = event.row_key.value.split("\t", 1)
            self.load_track(dataset, track_id)

    @work(thread=True, exclusive=True, group="track")
    def load_track(self, dataset: str, track_id: str) -> None:
        self.post_message(
            read(
                self.store,
                lambda: TrackLoaded(
                    dataset,
                    track_id,
                    api.track_image(self.store, dataset, track_id),
                    api.nearest_neighbours(self.store, dataset, track_id, NEIGHBOURS),
                ),
            )
        )

    def on_track_loaded(self, message: TrackLoaded) -> None:
        self.shown = message
        track = next(
            (
                t
                for t in self.tracks
                if t["track_id"] == message.track_id and t["dataset"] == message.dataset
            ),
            {},
        )
        caption = f"{message.track_id} ({track.get('label', '?')}, {track.get('part', '-')})"
        self.query_one("#track-caption", Static).update(safe.text(caption))
        self.query_one("#spectrogram", Spectrogram).show(
            message.image, "no spectrogram: run `percmusic features`"
        )
        table = self.query_one("#neighbours", DataTable)
        rows: list[tables.Row] = [
            (
                [
                    safe.text(metric if i == 0 else ""),
                    safe.text(short_id(n["track_id"], n["label"])),
                    safe.text(n["label"]),
                    fmt.quantity(n["distance"]),
                ],
                None,
            )
            for metric, found in message.neighbours.items()
            for i, n in enumerate(found)
        ]
        if not message.neighbours:
            rows.append((["—", "no stored distances", "", ""], None))
        tables.fill(table, rows)
