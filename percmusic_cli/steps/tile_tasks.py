"""Distance tiles as tasks on the session's executor: block index ranges in, tile part
files out.

A task never receives prepared state: it memory-maps the feature images from the store
(which the workers must see, on shared storage), prepares only its two blocks with
`PairwiseEngine.prepare`, computes the tile with `.tile`, and writes it atomically as the
same part whichever executor ran it. Workers never open DuckDB: the client assembles the
matrix from the parts and records it. Parts a killed client left behind are skipped on
the rerun, so it resumes at the first missing tile."""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from percmusic_cli.config import DistanceConfig
from percmusic_cli.devices import resolve_device
from percmusic_cli.errors import DataError
from percmusic_cli.execution import Session, run_tasks
from percmusic_cli.metrics.pairwise import (
    PairwiseEngine,
    TileSpec,
    _pairs_in,
    _place,
    _symmetrise,
    _tile_executor,
    tile_plan,
)
from percmusic_cli.store import arrays as a

# Tiles per side of one task: 8 x 8 tiles of 64 are 262,144 pairs prepared from 1,024 images.
TASK_SPAN = 8


@dataclass(frozen=True)
class BlockJob:
    """One matrix: which feature rows are its rows and columns, and where its tiles go."""

    store_root: str
    features_path: str  # relative to the store root
    row_idx: np.ndarray  # rows of the feature array for the matrix rows
    col_idx: np.ndarray | None  # None: rows x rows, symmetric
    config: DistanceConfig
    device: str
    array_path: str  # the matrix's final path; its tiles are parts beside it

    @property
    def symmetric(self) -> bool:
        return self.col_idx is None

    @property
    def shape(self) -> tuple[int, int]:
        n = len(self.row_idx)
        return n, n if self.col_idx is None else len(self.col_idx)

    def tasks(self, todo: list[TileSpec], span: int) -> list[TileTask]:
        """The missing tiles grouped into tasks of up to span x span tiles: a task prepares
        its rows and columns once for all its tiles (a lone 64 x 64 tile costs less to
        compute than to schedule and prepare)."""
        groups: dict[tuple[int, int], list[TileSpec]] = {}
        size = span * self.config.tile
        for spec in todo:
            groups.setdefault((spec.r.start // size, spec.c.start // size), []).append(spec)
        cols = self.row_idx if self.col_idx is None else self.col_idx
        out = []
        for specs in groups.values():
            r0, r1 = min(s.r.start for s in specs), max(s.r.stop for s in specs)
            c0, c1 = min(s.c.start for s in specs), max(s.c.stop for s in specs)
            # A block on the diagonal of a symmetric matrix is prepared once, for both sides,
            # as the local path's diagonal tiles are.
            same = self.symmetric and (r0, r1) == (c0, c1)
            out.append(
                TileTask(
                    self.store_root,
                    self.features_path,
                    np.array(self.row_idx[r0:r1]),
                    None if same else np.array(cols[c0:c1]),
                    (r0, c0),
                    tuple(specs),
                    self.symmetric,
                    self.config,
                    self.device,
                    self.array_path,
                )
            )
        return out


@dataclass(frozen=True)
class TileTask:
    store_root: str
    features_path: str
    rows: np.ndarray  # feature-array rows of the task's row range
    cols: np.ndarray | None  # of its column range; None: the same as rows (on the diagonal)
    origin: tuple[int, int]  # matrix row and column of rows[0] and cols[0]
    specs: tuple[TileSpec, ...]  # the tiles to compute, in matrix coordinates
    symmetric: bool
    config: DistanceConfig
    device: str
    array_path: str


def open_features(store_root: str, features_path: str) -> np.ndarray:
    """The feature images memory-mapped read-only; a clear error where the store is unseen."""
    target = Path(store_root) / features_path
    if not target.is_file():
        raise DataError(
            f"worker {socket.gethostname()} cannot see the store: {target} is missing "
            "(Dask workers need the store folder on shared storage at the same path)"
        )
    return np.load(target, mmap_mode="r", allow_pickle=False)


def run_tile(task: TileTask) -> tuple[int, int]:
    """Compute a task's tiles and write each as its part; returns (tiles, pairs). Pure but
    for the part files, each written atomically, so a retried or repeated task is harmless.
    Tiles run in the metric's tile pool: one torch thread each, so the bits do not depend
    on where the task runs."""
    images = open_features(task.store_root, task.features_path)
    engine = PairwiseEngine(task.config, device=resolve_device(task.device))
    rows = engine.prepare(np.asarray(images[task.rows]))
    cols = rows if task.cols is None else engine.prepare(np.asarray(images[task.cols]))
    r0, c0 = task.origin

    def one(spec: TileSpec) -> np.ndarray:
        r = slice(spec.r.start - r0, spec.r.stop - r0)
        c = slice(spec.c.start - c0, spec.c.stop - c0)
        return engine.tile(rows, cols, r, c)

    pairs = 0
    with _tile_executor(engine) as pool:
        for spec, block in zip(task.specs, pool.map(one, task.specs), strict=True):
            if task.symmetric and spec.r == spec.c:
                block = _symmetrise(block)
            a.write_part(Path(task.store_root), task.array_path, spec.key, {"d": block})
            pairs += _pairs_in(spec, task.symmetric)
    return len(task.specs), pairs


class KeptCounter(Protocol):
    def found(self, n: int) -> None: ...

    def saved(self, n: int) -> None: ...


def run_tiles(session: Session, job: BlockJob, kept: KeptCounter) -> None:
    """Every tile whose part is missing, as tasks on the session's executor, with progress
    (pairs, ETA) and the count of kept tiles as each task finishes."""
    plan = tile_plan(*job.shape, job.config.tile, job.symmetric)
    root = Path(job.store_root)
    todo = [s for s in plan if not a.has_part(root, job.array_path, s.key)]
    kept.found(len(plan) - len(todo))
    if len(todo) < len(plan):
        session.reporter.log(f"{len(plan) - len(todo)} of {len(plan)} tiles already computed")
    run_tasks(
        session,
        run_tile,
        job.tasks(todo, TASK_SPAN),
        label=f"{job.config.metric} distances",
        unit="pairs",
        weight=lambda t: sum(_pairs_in(s, t.symmetric) for s in t.specs),
        on_done=lambda _t, done: kept.saved(done[0]),
    )


def assemble(job: BlockJob, load: Callable[[str], np.ndarray]) -> np.ndarray:
    """The dense matrix from its stored tiles."""
    n, m = job.shape
    out = np.zeros((n, m), dtype=np.float64)
    for spec in tile_plan(n, m, job.config.tile, job.symmetric):
        _place(out, spec, np.asarray(load(spec.key), dtype=np.float64), job.symmetric)
    if job.symmetric:
        np.fill_diagonal(out, 0.0)
    return out
