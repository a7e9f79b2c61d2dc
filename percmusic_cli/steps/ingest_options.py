"""`ingest`'s options checked before the store or sources/ are touched: the archive limits
and which of PATH, --manifest and --synthetic were given."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from percmusic_cli.datasets.archive import MB, Limits
from percmusic_cli.errors import UsageError


def archive_limits(max_mb: int | None, max_ratio: float | None) -> Limits:
    """An archive may expand to at most `max_mb` MB and `max_ratio` times its size."""
    limits = Limits()
    if max_mb is not None:
        if max_mb < 1:
            raise UsageError(f"--archive-max-mb must be at least 1, not {max_mb}")
        limits = dataclasses.replace(limits, max_total_bytes=max_mb * MB)
    if max_ratio is not None:
        if not 1.0 <= max_ratio < float("inf"):
            raise UsageError(f"--archive-max-ratio must be a number >= 1, not {max_ratio}")
        limits = dataclasses.replace(limits, max_ratio=max_ratio)
    return limits


def check_sources(
    path: Path | None, synthetic: bool, manifest: Path | None, clips_per_class: int
) -> None:
    from percmusic_cli.config import MAX_CLIPS, check_int

    if path is None and not synthetic and manifest is None:
        raise UsageError(
            "give a PATH to ingest, --manifest FILE, or --synthetic for the demo dataset"
        )
    if synthetic and manifest is not None:
        raise UsageError("give either --synthetic or --manifest FILE, not both")
    if path is not None and synthetic:
        raise UsageError(f"--synthetic makes its own files: drop the PATH {str(path)!r}")
    check_int("--clips-per-class", clips_per_class, 2, MAX_CLIPS)
