"""`rm`: remove runs, models, feature sets and distance matrices with their files.

Order, so that a crash anywhere leaves a store `check` passes (at worst with leftovers
that `check --repair` removes), and the same `rm` (or `check --repair`) finishes it:
0. the ids are written to a journal file, so a rerun knows what is already gone;
1. one transaction deletes the runs, the models' latent sets, the matrices and feature
   sets (rows and array records) and marks the models 'removing'; those files are now
   unrecorded leftovers;
2. each checkpoint folder is renamed to a temporary name (a leftover, not damage);
3. one transaction deletes the models' rows;
4. the temporary folders and array files are deleted, then the journal.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from percmusic_cli.store import Store
from percmusic_cli.store import remove as sr
from percmusic_cli.store.arrays import atomic_file
from percmusic_cli.store.remove import Removal

TRASH_PREFIX = ".tmp-ckpt-rm-"  # a temporary checkpoint name: `check` calls it a leftover
JOURNAL = ".rm-journal.json"  # ids of a removal under way


def plan_removal(store: Store, refs: list[str]) -> Removal:
    """What `refs` name, with the models an interrupted `rm` left 'removing'."""
    with store.connect(read_only=True) as con:
        removal = sr.plan(con, refs, gone=_journal(store))
        for mid in sr.removing_models(con):
            if mid not in removal.models:
                extra = sr.plan(con, [mid])
                removal.models.append(mid)
                removal.checkpoints.update(extra.checkpoints)
                removal.latents.update(extra.latents)
    return removal


def remove(
    store: Store, refs: list[str], confirm: Callable[[Removal], bool] | None = None
) -> dict[str, Any]:
    removal = plan_removal(store, refs)
    if confirm is not None and not confirm(removal):
        return {**asdict(removal), "removed": False}
    _execute(store, removal)
    return {**asdict(removal), "removed": True}


def finish_pending(store: Store) -> list[str]:
    """Finish what an interrupted `rm` left (the caller holds the writer lock): returns
    the ids of the models it removed."""
    with store.connect(read_only=True) as con:
        pending = sr.removing_models(con)
    removal = plan_removal(store, pending) if pending else Removal()
    _execute(store, removal)
    return removal.models


def _execute(store: Store, removal: Removal) -> None:
    _write_journal(store, sorted({*_journal(store), *removal.ids()}))
    with store.connect() as con:
        sr.mark_removing(con, removal)
    trash = [_to_trash(store, rel) for rel in removal.checkpoints.values() if rel]
    with store.connect() as con:
        sr.drop_models(con, removal.models)
    for folder in trash:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
    arrays = [*removal.latents.values(), *removal.features.values(), *removal.distances.values()]
    for rel in filter(None, arrays):
        (store.root / rel).unlink(missing_ok=True)
        shutil.rmtree(store.root / f"{rel}.parts", ignore_errors=True)
    (store.root / JOURNAL).unlink(missing_ok=True)


def _journal(store: Store) -> list[str]:
    """Ids an interrupted `rm` was removing (none when it finished or never started)."""
    with contextlib.suppress(OSError, ValueError):
        ids = json.loads((store.root / JOURNAL).read_text(encoding="utf-8"))
        if isinstance(ids, list):
            return [str(i) for i in ids]
    return []


def _write_journal(store: Store, ids: list[str]) -> None:
    with atomic_file(store.root / JOURNAL) as fh:
        fh.write(json.dumps(ids).encode("utf-8"))


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
