"""Options given before the command (`percmusic --store X ingest ...`), shared by all."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class GlobalOptions:
    store: str | Path | None = None
    wait: float = 0.0
    debug: bool = False
    quiet: bool = False


OPTIONS = GlobalOptions()
