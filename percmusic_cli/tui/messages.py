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
class RunLoaded(Message):
    """One run with its result and predictions (api.run_detail)."""

    run: dict[str, Any]


@dataclass
class DistancesLoaded(Message):
    """Per metric, the within-label and all-pairs distances (None: no all x all matrix)."""

    dataset: str | None
    groups: dict[str, Any] = field(default_factory=dict)
    datasets: list[str] = field(default_factory=list)
    pooled: dict[str, Any] = field(default_factory=dict)  # metric -> api.within_between


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
