"""Per-track test predictions of stored runs, for the paired comparisons."""

from __future__ import annotations

from typing import Any

from percmusic_cli.errors import DataError
from percmusic_cli.store import Store
from percmusic_cli.store import runs as sr


def load_run(store: Store, run_id: str) -> dict[str, Any]:
    """A stored run with its predictions (sorted by track id); a data error if missing."""
    with store.connect(read_only=True) as con:
        run = sr.get_run(con, run_id)
    if run is None:
        raise DataError(f"no run {run_id!r} in the store (see `percmusic results`)")
    return run


def run_predictions(store: Store, run_id: str) -> tuple[list[str], list[str], list[str]]:
    """(track ids, true labels, predicted labels) of a run's test tracks, by track id."""
    preds = load_run(store, run_id)["predictions"]
    return (
        [p["track_id"] for p in preds],
        [p["true_label"] for p in preds],
        [p["pred_label"] for p in preds],
    )
