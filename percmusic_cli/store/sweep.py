"""Removing what a killed writer left behind, by the next writer.

Only a process holding the writer lock calls `sweep`: no other writer can be running, so
every temporary file is debris of a dead one, never work in progress. What is removed:
temporary array files and parts, temporary checkpoint folders, checkpoints superseded by
a newer complete one (a kill between saving and pruning keeps both), and a database
created under a temporary name."""

from __future__ import annotations

import shutil
from pathlib import Path

TMP_PREFIX = ".tmp-"  # store.arrays.atomic_file and models.checkpoint's temporary folders
CKPT_PREFIX = "ckpt-"  # a complete checkpoint, renamed into place when fully written


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def sweep(root: Path, db_name: str) -> list[Path]:
    """Remove the debris under `root`; returns what was removed."""
    gone: list[Path] = []
    arrays, ckpts = root / "arrays", root / "checkpoints"
    if arrays.is_dir():
        gone += list(arrays.glob(f"{TMP_PREFIX}*"))
        gone += list(arrays.glob(f"*.parts/{TMP_PREFIX}*"))
    if ckpts.is_dir():
        for model in (p for p in ckpts.iterdir() if p.is_dir() and not p.is_symlink()):
            gone += list(model.glob(f"{TMP_PREFIX}*"))
            done = sorted(p for p in model.glob(f"{CKPT_PREFIX}*") if p.is_dir())
            gone += done[:-1]
    gone += list(root.glob(f".{db_name}.tmp-*"))
    for path in gone:
        _remove(path)
    return gone
