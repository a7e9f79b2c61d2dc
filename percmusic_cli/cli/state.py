"""Options given before the command (`percmusic --store X ingest ...`), shared by all.

They live on the Click context of the running command (`PercmusicGroup.main` creates them,
the root callback fills them and builds the command's `Session`), not in a module value:
two invocations in one process (tests, a script calling `main` twice) never share them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from typer._click import globals as click_globals

from percmusic_cli.api import Session


@dataclass
class GlobalOptions:
    store: str | Path | None = None
    wait: float = 0.0
    debug: bool = False
    quiet: bool = False
    session: Session | None = None


def options() -> GlobalOptions:
    """The running command's global options (defaults outside a command)."""
    ctx = click_globals.get_current_context(silent=True)
    found = ctx.find_object(GlobalOptions) if ctx is not None else None
    return found if found is not None else GlobalOptions()
