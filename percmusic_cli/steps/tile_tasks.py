"""Distance tiles as Dask tasks: block index ranges in, one tile part file out.

A task never receives prepared state: it memory-maps the feature images from the store
(which the workers must see, on shared storage), prepares only its two blocks with
`PairwiseEngine.prepare`, computes the tile with `.tile`, and writes it atomically as the
same part the local path writes. Workers never open DuckDB: the client assembles the
matrix from the parts and records it, as the local path does. Parts a killed client left
behind are skipped on the rerun, so it resumes at the first missing tile."""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from percmusic_cli.config import DistanceConfig
from percmusic_cli.devices import one_thread_per_op
from percmusic_cli.errors import DataError
from percmusic_cli.metrics.pairwise import (
    PairwiseEngine,
    TileSpec,
    _pairs_in,
    _place,
    _symmetrise,
    tile_plan,
)
from percmusic_cli.progress import Reporter
from percmusic_cli.steps import scheduler
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
    for the part files, each written atomically, so a retried or repeated task is harmless."""
    images = open_features(task.store_root, task.features_path)
    engine = PairwiseEngine(task.config, device=task.device)
    pairs = 0
    with one_thread_per_op(engine.device):
        rows = engine.prepare(np.asarray(images[task.rows]))
        cols = rows if task.cols is None else engine.prepare(np.asarray(images[task.cols]))
        r0, c0 = task.origin
        for spec in task.specs:
            r = slice(spec.r.start - r0, spec.r.stop - r0)
            c = slice(spec.c.start - c0, spec.c.stop - c0)
            block = engine.tile(rows, cols, r, c)
            if task.symmetric and spec.r == spec.c:
                block = _symmetrise(block)
            a.write_part(Path(task.store_root), task.array_path, spec.key, {"d": block})
            pairs += _pairs_in(spec, task.symmetric)
    return len(task.specs), pairs


def run_on_dask(job: BlockJob, reporter: Reporter) -> None:
    """Submit every tile whose part is missing; report progress with ETA as they finish."""
    from distributed import as_completed

    n = len(job.row_idx)
    m = n if job.col_idx is None else len(job.col_idx)
    plan = tile_plan(n, m, job.config.tile, job.symmetric)
    root = Path(job.store_root)
    todo = [s for s in plan if not a.has_part(root, job.array_path, s.key)]
    if len(todo) < len(plan):
        reporter.log(f"{len(plan) - len(todo)} of {len(plan)} tiles already computed")
    if not todo:
        return
    total = sum(_pairs_in(s, job.symmetric) for s in todo)
    task = reporter.task(f"{job.config.metric} distances (dask)", total=total, unit="pairs")
    try:
        client = scheduler.client()
        futures = [
            client.submit(run_tile, t, key=f"tiles-{job.array_path}-{t.specs[0].key}", retries=2)
            for t in job.tasks(todo, TASK_SPAN)
        ]
        for fut in as_completed(futures):
            _tiles, pairs = fut.result()
            task.advance(pairs)
    finally:
        task.close()


def assemble(job: BlockJob, load: Callable[[str], np.ndarray]) -> np.ndarray:
    """The dense matrix from its stored tiles (the client's side of the local path)."""
    n = len(job.row_idx)
    m = n if job.col_idx is None else len(job.col_idx)
    out = np.zeros((n, m), dtype=np.float64)
    for spec in tile_plan(n, m, job.config.tile, job.symmetric):
        _place(out, spec, np.asarray(load(spec.key), dtype=np.float64), job.symmetric)
    if job.symmetric:
        np.fill_diagonal(out, 0.0)
    return out
