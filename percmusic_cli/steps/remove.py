"""`rm`: remove runs and models with their arrays and checkpoints.

Order, so that a crash anywhere leaves a store `check` passes (at worst with leftovers
that `check --repair` removes):
1. one transaction deletes the runs and the models' latent sets (rows and array records)
   and marks the models 'removing'; the latent files are now unrecorded leftovers;
2. each checkpoint folder is renamed to a temporary name (a leftover, not damage);
3. one transaction deletes the models' rows;
4. the temporary folders and latent files are deleted.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from percmusic_cli.store import Store
from percmusic_cli.store import remove as sr
from percmusic_cli.store.remove import Removal

TRASH_PREFIX = ".tmp-ckpt-rm-"  # a temporary checkpoint name: `check` calls it a leftover


def plan_removal(store: Store, refs: list[str]) -> Removal:
    with store.connect(read_only=True) as con:
        return sr.plan(con, refs)


def remove(
    store: Store, refs: list[str], confirm: Callable[[Removal], bool] | None = None
) -> dict[str, Any]:
    removal = plan_removal(store, refs)
    if confirm is not None and not confirm(removal):
        return {**asdict(removal), "removed": False}
    with store.connect() as con:
        sr.mark_removing(con, removal)
    trash = [_to_trash(store, rel) for rel in removal.checkpoints.values() if rel]
    with store.connect() as con:
        sr.drop_models(con, removal.models)
    for folder in trash:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
    for rel in removal.latents.values():
        (store.root / rel).unlink(missing_ok=True)
    return {**asdict(removal), "removed": True}


def _to_trash(store: Store, rel: str) -> Path | None:
    source = store.root / rel
    if not source.exists():
        return None
    target = source.with_name(f"{TRASH_PREFIX}{source.name}-{os.getpid()}")
    os.replace(source, target)
    return target


def check_request(store: Store, ids: list[str]) -> None:
    """Ids given and a store there, before the writer lock is taken."""
    from percmusic_cli.errors import DataError, UsageError

    if not ids:
        raise UsageError("give one or more run or model ids (see `percmusic results`)")
    if not store.exists():
        raise DataError(f"no store at {store.root}")
