"""Messages the dashboard's workers post back to their screen (one per kind of read)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from textual.message import Message


@dataclass
class LoadFailed(Message):
    """A read failed: `kind` is "empty", "locked" or "error"; `text` says why."""

    kind: str
    text: str


@dataclass
class OverviewLoaded(Message):
    """The store's status (api.status with errors)."""

    status: dict[str, Any]


@dataclass
class ResultsLoaded(Message):
    """All stored runs, one dict per run (api.results)."""

    runs: list[dict[str, Any]]


@dataclass
class ClaimsLoaded(Message):
    """The last stored study (reproduce summary and claims), or None."""

    study: dict[str, Any] | None


@dataclass
class RunLoaded(Message):
    """One run with its result and predictions (api.run_detail)."""

    run: dict[str, Any]


@dataclass
class DistancesLoaded(Message):
    """Per metric, the stored Fig. 1 statistics (one row per group; absent: none stored),
    and each metric's display label."""

    dataset: str | None
    groups: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    datasets: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)


@dataclass
class TrainingLoaded(Message):
    """Trained models and the loss history of each."""

    models: list[dict[str, Any]]
    histories: dict[str, list[tuple[int, float]]]


@dataclass
class TracksLoaded(Message):
    """Every track with label, split part and status (api.browse_tracks)."""

    tracks: list[dict[str, Any]]


@dataclass
class TrackLoaded(Message):
    """One track's spectrogram (or None) and its nearest neighbours per metric."""

    dataset: str
    track_id: str
    image: Any
    neighbours: dict[str, list[dict[str, Any]]]


@dataclass
class CompareLoaded(Message):
    """Full details of the runs to compare, in the order they were marked."""

    runs: list[dict[str, Any]]
    paired: dict[str, Any] | None = None  # api.compare on the same test tracks
    paired_error: str | None = None  # why not: e.g. different test tracks
