"""`check`: verify that the store holds what its tables say, and repair what can be.

Three kinds of findings:

- problems (the check fails): an array file missing, altered, unreadable or not what its
  row records; a row pointing to no array; a checkpoint that is missing or refused; an
  unknown file under arrays/ or checkpoints/; a run whose feature set is gone.
- leftovers (reported, harmless, the check still passes): debris of a killed command:
  temporary files, an array written but never recorded, parts of an array that was
  already recorded. Every SIGKILL can leave one, and the next run never reads them.
- in progress: parts of unfinished arrays and models not yet done, which a rerun resumes.

`repair` deletes leftovers, moves unknown files and refused checkpoints to quarantine/
(nothing a user made is deleted), and deletes the rows of broken derived artefacts (with
their array rows) so the next command recomputes them. Runs and predictions are never
deleted: a run whose inputs are gone stays a problem until its inputs are recomputed.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from percmusic_cli.errors import ArrayIntegrityError
from percmusic_cli.store import Store
from percmusic_cli.store import check as sc
from percmusic_cli.store import tables as t
from percmusic_cli.store.arrays import (
    TMP_PREFIX,
    ArrayRecord,
    nonfinite_rows,
    part_problem,
    sha256_file,
)
from percmusic_cli.store.db import DB_NAME

CKPT_TMP_PREFIX = ".tmp-ckpt-"
PARTS_SUFFIX = ".parts"
QUARANTINE = "quarantine"
# Names the steps give their arrays: such a file without a row was written, then the
# process died before its row was committed (a rerun rewrites it).
_KNOWN_ARRAY = re.compile(r"^(features|latents|dist-[a-z0-9_]+)-[0-9a-f]+\.npy$")
_PARTIAL = re.compile(r"^\..+\.partial-\d+$")  # archive extraction, synthetic clips

# problem kinds fixed by forgetting the array and its derived rows
_ARRAY_KINDS = (
    "array_missing",
    "array_size_mismatch",
    "array_not_finite",
    "array_altered",
    "array_unreadable",
    "array_mismatch",
    "row_without_array",
)


# arrays that must hold only finite values: what a bad row is, and what recomputes them
_FINITE_KINDS = {
    "features": "images hold NaN or infinite values (rows ",
    "distances": "rows of the distance matrix hold NaN or infinite values (rows ",
}
_RECOMPUTE = {
    "features": "`percmusic features` leaves those tracks out",
    "distances": "`percmusic distances` recomputes it (a metric that gave non-finite "
    "values is refused, with its name)",
}


@dataclass(frozen=True)
class Finding:
    kind: str
    path: str  # relative to the store root, or a run id
    detail: str

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "path": self.path, "detail": self.detail}


@dataclass
class Scan:
    writer: str | None  # who holds the writer lock (not us), if anyone
    checked: dict[str, int] = field(default_factory=dict)
    problems: list[Finding] = field(default_factory=list)
    leftovers: list[Finding] = field(default_factory=list)
    in_progress: list[Finding] = field(default_factory=list)

    def leftover(self, kind: str, path: str, detail: str) -> None:
        # While a writer runs, its temporary files are work in progress, not debris.
        if self.writer:
            self.in_progress.append(
                Finding(kind, path, f"{detail} (a writer is running: {self.writer})")
            )
        else:
            self.leftovers.append(Finding(kind, path, detail))


def check_store(store: Store, repair: bool = False, sources: bool = False) -> dict[str, Any]:
    """Verify the store; with `repair` (the caller holds the writer lock) fix what can be;
    with `sources`, hash every source audio file again against its recorded md5."""
    missing = _database_missing(store)
    if missing is not None:
        return missing
    empty = sc.schema_less(store.db_path)
    if empty:
        return _database_empty(store, repair)
    scan = _scan(store, None if repair else sc.writer_holder(store.root), sources)
    repaired: list[Finding] = []
    if repair:
        repaired = _repair(store, scan)
        if repaired:
            scan = _scan(store, None, sources)
    return _report(store, scan, repaired)


def _report(store: Store, scan: Scan, repaired: list[Finding]) -> dict[str, Any]:
    return {
        "store": str(store.root),
        "exists": True,
        "ok": not scan.problems,
        "writer": scan.writer,
        "checked": scan.checked,
        "problems": [f.to_dict() for f in scan.problems],
        "leftovers": [f.to_dict() for f in scan.leftovers],
        "in_progress": [f.to_dict() for f in scan.in_progress],
        "repaired": [f.to_dict() for f in repaired],
    }


def _database_missing(store: Store) -> dict[str, Any] | None:
    """None when the database exists. Without one, arrays or checkpoints on disk are
    orphans (the database was deleted or moved), which is a problem, not an empty store."""
    if store.exists():
        return None
    scan = Scan(writer=None)
    for folder in (store.arrays_dir, store.checkpoints_dir):
        if folder.is_dir() and any(folder.iterdir()):
            n = sum(1 for _ in folder.iterdir())
            scan.problems.append(
                Finding(
                    "database_missing",
                    _rel(store, folder),
                    f"{n} entries, but the database {store.db_path.name} is missing: they are "
                    "orphaned (restore the database, or move them away and start again)",
                )
            )
    report = _report(store, scan, [])
    report["exists"] = bool(scan.problems)
    return report


def _database_empty(store: Store, repair: bool) -> dict[str, Any]:
    scan = Scan(writer=None)
    finding = Finding(
        "database_empty",
        DB_NAME,
        "the database has no tables (a command was killed while creating it); "
        "`check --repair` removes it and the next command creates it again",
    )
    if not repair:
        scan.problems.append(finding)
        return _report(store, scan, [])
    _remove(store.db_path)
    (store.root / f"{DB_NAME}.wal").unlink(missing_ok=True)
    return _report(store, scan, [Finding("removed", DB_NAME, finding.detail)])


# ---------------------------------------------------------------- scanning


def _scan(store: Store, writer: str | None, sources: bool = False) -> Scan:
    with store.connect(read_only=True) as con:
        records = t.all_array_records(con)
        derived = sc.derived_rows(con)
        models = sc.model_rows(con)
        orphan_runs = sc.runs_missing_features(con)
        checked = sc.counts(con)
    scan = Scan(writer=writer, checked=checked)
    for rec in records:
        _check_array(store.root, rec, scan)
    recorded = {r.path for r in records}
    for d in derived:
        if d.array_path not in recorded:
            scan.problems.append(
                Finding(
                    "row_without_array",
                    d.array_path,
                    f"{d.table} row {d.key} points to an array the store "
                    f"has no record of; `check --repair`, then `{d.rerun}`",
                )
            )
    _check_models(store, models, scan)
    _scan_arrays_dir(store, recorded, scan)
    _scan_checkpoints_dir(store, {str(m["checkpoint_dir"]) for m in models}, scan)
    _scan_sources(store, scan)
    if sources:
        from percmusic_cli.steps.sources import verify

        n, found = verify(store)
        scan.problems += [Finding(kind, path, detail) for kind, path, detail in found]
        scan.checked["sources"] = n
    for run in orphan_runs:
        scan.problems.append(
            Finding(
                "inputs_missing",
                str(run["run_id"]),
                f"feature set {run['feature_hash']} is gone; the run's results are kept; rerun "
                "`percmusic features` with the same settings to restore its inputs",
            )
        )
    return scan


def _check_array(root: Path, rec: ArrayRecord, scan: Scan) -> None:
    path = root / rec.path
    if not path.is_file():
        scan.problems.append(Finding("array_missing", rec.path, "the file is missing"))
        return
    try:
        shape, dtype, offset = sc.npy_layout(path)
    except (OSError, ValueError) as exc:
        scan.problems.append(Finding("array_unreadable", rec.path, f"refused: {exc}"))
        return
    size, expected = path.stat().st_size, offset + math.prod(shape) * np.dtype(dtype).itemsize
    if size != expected:
        scan.problems.append(
            Finding(
                "array_size_mismatch",
                rec.path,
                f"{size} bytes, but its header ({dtype}{list(shape)}) needs {expected}",
            )
        )
    elif size != rec.nbytes or sha256_file(path) != rec.sha256:
        scan.problems.append(
            Finding("array_altered", rec.path, "its sha256 differs from the one recorded")
        )
    elif shape != rec.shape or dtype != rec.dtype:
        scan.problems.append(
            Finding(
                "array_mismatch",
                rec.path,
                f"holds {dtype}{list(shape)}, the store recorded {rec.dtype}{list(rec.shape)}",
            )
        )
    elif rec.kind in _FINITE_KINDS:
        bad = nonfinite_rows(np.load(path, mmap_mode="r", allow_pickle=False))
        if len(bad):
            scan.problems.append(
                Finding(
                    "array_not_finite",
                    rec.path,
                    f"{len(bad)} {_FINITE_KINDS[rec.kind]}"
                    f"{', '.join(map(str, bad[:5].tolist()))}); `check --repair`, then "
                    f"{_RECOMPUTE[rec.kind]}",
                )
            )


def _check_models(store: Store, models: list[dict[str, Any]], scan: Scan) -> None:
    for m in models:
        rel, status = str(m["checkpoint_dir"]), str(m["status"])
        folder = store.root / rel
        has_ckpt = folder.is_dir() and any(p.name.startswith("ckpt-") for p in folder.iterdir())
        if status == "removing":
            # `rm` was stopped between its transactions; `check` must not pass it as training
            (scan.in_progress if scan.writer else scan.problems).append(
                Finding(
                    "removal_unfinished",
                    str(m["model_id"]),
                    f"model {m['model_id']} was being removed when `rm` stopped; "
                    "`check --repair` (or the same `rm`) finishes the removal",
                )
            )
            continue
        if status == "broken":
            scan.in_progress.append(
                Finding(
                    "model_broken",
                    rel,
                    f"{m['model_id']}: marked for retraining; rerun `percmusic train`",
                )
            )
            continue
        if not has_ckpt:
            if status == "done":
                scan.problems.append(
                    Finding(
                        "checkpoint_missing",
                        rel,
                        f"model {m['model_id']} is done but has no checkpoint",
                    )
                )
            else:
                scan.in_progress.append(
                    Finding(
                        "training",
                        rel,
                        f"{m['model_id']}: no checkpoint yet; rerun `percmusic train`",
                    )
                )
            continue
        why = _checkpoint_problem(folder)
        if why is not None:
            scan.problems.append(Finding("checkpoint_broken", rel, why))
        elif status != "done":
            scan.in_progress.append(
                Finding(
                    "training",
                    rel,
                    f"{m['model_id']}: stopped before step "
                    f"{m['steps_total']}; rerun `percmusic train` to "
                    "resume from its checkpoint",
                )
            )


def _checkpoint_problem(folder: Path) -> str | None:
    # Loading verifies every file against meta.json's sha256 and refuses pickles.
    from percmusic_cli.models.checkpoint import load_checkpoint

    try:
        load_checkpoint(folder, device="cpu")
    except ArrayIntegrityError as exc:
        return str(exc)
    except (OSError, ValueError, RuntimeError) as exc:
        return f"refused: {type(exc).__name__}: {exc}"
    return None


def _rel(store: Store, path: Path) -> str:
    return path.relative_to(store.root).as_posix()


def _scan_arrays_dir(store: Store, recorded: set[str], scan: Scan) -> None:
    if not store.arrays_dir.is_dir():
        return
    for entry in sorted(store.arrays_dir.iterdir()):
        rel = _rel(store, entry)
        if entry.is_dir() and entry.name.endswith(PARTS_SUFFIX):
            _scan_parts(store, entry, rel[: -len(PARTS_SUFFIX)] in recorded, scan)
        elif entry.name.startswith(TMP_PREFIX):
            scan.leftover("temporary", rel, "temporary file of an interrupted write")
        elif rel in recorded:
            continue
        elif entry.is_file() and _KNOWN_ARRAY.match(entry.name):
            scan.leftover(
                "uncommitted",
                rel,
                "written, but its row was never committed (interrupted); the next run rewrites it",
            )
        else:
            scan.problems.append(Finding("orphan_file", rel, "no table row points to it"))


def _scan_parts(store: Store, folder: Path, done: bool, scan: Scan) -> None:
    rel = _rel(store, folder)
    parts = [p for p in folder.glob("*.npz") if not p.name.startswith(TMP_PREFIX)]
    for tmp in folder.glob(f"{TMP_PREFIX}*"):
        scan.leftover("temporary", _rel(store, tmp), "temporary file of an interrupted write")
    array_rel = rel[: -len(PARTS_SUFFIX)]
    for part in sorted(parts):
        why = part_problem(store.root, array_rel, part.stem)
        if why is None:
            continue
        if part.with_suffix(".sha256").is_file():
            scan.problems.append(
                Finding("part_damaged", _rel(store, part), f"{why}; `check --repair` removes it")
            )
        else:
            scan.leftover("part_unchecked", _rel(store, part), why)
    if done:
        scan.leftover("stale_parts", rel, "parts of an array that is already recorded")
    else:
        scan.in_progress.append(
            Finding(
                "parts",
                rel,
                f"{len(parts)} parts of unfinished work; rerunning the command resumes from them",
            )
        )


def _scan_checkpoints_dir(store: Store, model_dirs: set[str], scan: Scan) -> None:
    if not store.checkpoints_dir.is_dir():
        return
    for entry in sorted(store.checkpoints_dir.iterdir()):
        rel = _rel(store, entry)
        if entry.name.startswith(CKPT_TMP_PREFIX):  # e.g. a model `rm` was removing
            scan.leftover("temporary", rel, "checkpoint folder of an interrupted removal")
            continue
        if rel not in model_dirs:
            scan.problems.append(Finding("orphan_checkpoint", rel, "no models row points to it"))
            continue
        for tmp in sorted(entry.glob(f"{CKPT_TMP_PREFIX}*")):
            scan.leftover("temporary", _rel(store, tmp), "checkpoint of an interrupted save")
        # complete checkpoints are renamed into place as ckpt-<step>; only the newest is used
        done = sorted(p for p in entry.glob("ckpt-*") if p.is_dir())
        for old in done[:-1]:
            scan.leftover(
                "superseded",
                _rel(store, old),
                "an older checkpoint kept by an interrupted save (the newest one is used)",
            )


def _scan_sources(store: Store, scan: Scan) -> None:
    if not store.sources_dir.is_dir():
        return
    for folder, _dirs, files in os.walk(store.sources_dir):
        for name in sorted(files):
            if _PARTIAL.match(name):
                scan.leftover(
                    "temporary",
                    _rel(store, Path(folder) / name),
                    "partial file of an interrupted extraction",
                )


# ---------------------------------------------------------------- repairing


def _repair(store: Store, scan: Scan) -> list[Finding]:
    done: list[Finding] = []
    with store.connect() as con:
        stopped = sc.mark_stopped_trainings(con)
    for model_id in stopped:
        done.append(
            Finding(
                "interrupted",
                model_id,
                "training stopped without finishing; marked interrupted (rerun "
                "`percmusic train` to resume from its checkpoint)",
            )
        )
    from percmusic_cli.steps.remove import finish_pending

    for model_id in finish_pending(store):
        done.append(Finding("removed", model_id, "finished the removal an `rm` left halfway"))
    for f in scan.leftovers:
        _remove(store.root / f.path)
        done.append(Finding("removed", f.path, f"{f.kind}: {f.detail}"))
    for f in scan.problems:
        fixed = _fix(store, f)
        if fixed is not None:
            done.append(fixed)
    return done


def _fix(store: Store, f: Finding) -> Finding | None:
    if f.kind in _ARRAY_KINDS:
        with store.connect() as con:
            gone = sc.forget_array(con, f.path)
        _remove(store.root / f.path)
        again = ", ".join(sorted({f"`{d.rerun}`" for d in gone})) or "nothing (no row used it)"
        return Finding(
            "recompute", f.path, f"{f.kind}: array and its rows deleted; next {again} recomputes it"
        )
    if f.kind in ("checkpoint_broken", "checkpoint_missing"):
        with store.connect() as con:
            for m in sc.model_rows(con):
                if m["checkpoint_dir"] == f.path:
                    sc.mark_model_broken(con, str(m["model_id"]))
        moved = _quarantine(store, f.path)
        return Finding(
            "retrain",
            f.path,
            f"{f.kind}: model marked for retraining"
            + (f"; checkpoint moved to {moved}" if moved else ""),
        )
    if f.kind == "part_damaged":
        _remove(store.root / f.path)
        (store.root / f.path).with_suffix(".sha256").unlink(missing_ok=True)
        return Finding("removed", f.path, "damaged part: the next run recomputes it")
    if f.kind in ("orphan_file", "orphan_checkpoint"):
        return Finding("quarantined", f.path, f"{f.kind}: moved to {_quarantine(store, f.path)}")
    return None  # inputs_missing: a user's results are never deleted


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink()


def _quarantine(store: Store, rel: str) -> str | None:
    """Move `rel` under quarantine/ (kept, out of the store's way); None if it is absent."""
    source = store.root / rel
    if not source.exists() and not source.is_symlink():
        return None
    target_dir = store.root / QUARANTINE
    target_dir.mkdir(exist_ok=True)
    target = target_dir / f"{time.strftime('%Y%m%d-%H%M%S')}-{rel.replace('/', '_')}"
    n = 1
    while target.exists():
        target = target.with_name(f"{target.name}.{n}")
        n += 1
    os.replace(source, target)
    return _rel(store, target)
