"""KNN without dense matrices: each query's k nearest fit tracks, streamed tile by tile.

Chosen when the dense blocks a KNN run needs would pass the session's memory budget. A
task takes one block of query rows (feature-array row ids) and all the
fit columns, memory-maps the features, prepares its rows once and the columns chunk by
chunk, and folds each tile into a running top-k (`experiments.topk`); its (idx, dist)
is written as a part. Tiles lie on the same grid as the dense path's tiles, so the
distances, hence the neighbours and votes, are the same bits. Tasks run on the session's
executor; the client alone writes the store's tables."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from percmusic_cli.config import DistanceConfig
from percmusic_cli.devices import resolve_device
from percmusic_cli.execution import Session, as_session, run_tasks
from percmusic_cli.experiments.topk import TopK
from percmusic_cli.hashing import param_hash
from percmusic_cli.metrics import registry
from percmusic_cli.metrics.pairwise import PairwiseEngine, Prepared, _tile_executor
from percmusic_cli.progress import Reporter
from percmusic_cli.steps.distances import block_key
from percmusic_cli.steps.features import features_path
from percmusic_cli.steps.tile_tasks import open_features
from percmusic_cli.steps.views import SplitView
from percmusic_cli.store import Store
from percmusic_cli.store import arrays as a
from percmusic_cli.store import topk as st

# Prepared state per image, conservatively (NLPD keeps ~4/3 of the pixels in float64,
# MS-SSIM its local statistics): sizes the row blocks and column chunks to the budget.
PREPARED_BYTES_PER_PIXEL = 16


@dataclass(frozen=True)
class TopkTask:
    store_root: str
    features_path: str
    rows: np.ndarray  # feature-array rows of this block's queries
    cols: np.ndarray  # feature-array rows of all fit columns, in column order
    config: DistanceConfig
    device: str
    k: int
    parts_path: str
    key: str
    chunk: int  # columns prepared at once (a multiple of the tile size)


def run_topk(task: TopkTask) -> tuple[str, int]:
    """One row block's k nearest columns, written as a part; returns (key, pairs). Tiles
    run in the metric's tile pool (one torch thread each: the same bits anywhere)."""
    images = open_features(task.store_root, task.features_path)
    engine = PairwiseEngine(task.config, device=resolve_device(task.device))
    with _tile_executor(engine) as pool:
        idx, dist = _nearest(task, engine, images, pool)
    a.write_part(Path(task.store_root), task.parts_path, task.key, {"idx": idx, "dist": dist})
    return task.key, len(task.rows) * len(task.cols)


def _nearest(
    task: TopkTask, engine: PairwiseEngine, images: np.ndarray, pool: Any
) -> tuple[np.ndarray, np.ndarray]:
    step = task.config.tile
    acc = TopK(len(task.rows), task.k)
    rows = engine.prepare(np.asarray(images[task.rows]))
    for c0 in range(0, len(task.cols), task.chunk):
        cols = engine.prepare(np.asarray(images[task.cols[c0 : c0 + task.chunk]]))
        grid = [
            (slice(r0, min(r0 + step, rows.n)), slice(cc, min(cc + step, cols.n)))
            for r0 in range(0, rows.n, step)
            for cc in range(0, cols.n, step)
        ]
        tiles = list(pool.map(functools.partial(_tile, engine, rows, cols), grid))
        for (r, c), tile in zip(grid, tiles, strict=True):
            acc.push(r, tile, c0 + c.start)
    return acc.result()


def _tile(
    engine: PairwiseEngine, rows: Prepared, cols: Prepared, rc: tuple[slice, slice]
) -> np.ndarray:
    return engine.tile(rows, cols, rc[0], rc[1])


def block_sizes(
    n_rows: int, image_pixels: int, tile: int, budget: int, workers: int
) -> tuple[int, int]:
    """(rows per task, columns prepared at once): each side's prepared state within a
    quarter of the budget, in whole tiles (the dense path's grid), and at least as many
    row blocks as workers."""
    fit = max(tile, budget // 4 // (image_pixels * PREPARED_BYTES_PER_PIXEL) // tile * tile)
    blocks = max(workers, math.ceil(n_rows / fit))
    rows = tile * max(1, math.ceil(n_rows / blocks / tile))
    return rows, fit


class StreamedNeighbours:
    """A `knn.NeighbourLookup` over streamed, stored top-k artefacts of one view. Each block
    is streamed once, for at least `k_max` neighbours; a smaller k is its prefix (the order
    is stable), so choosing k and refitting with it reuse one artefact."""

    def __init__(
        self,
        session: Session | Store,
        view: SplitView,
        cfg: DistanceConfig,
        reporter: Reporter | None = None,
        k_max: int = 1,
    ) -> None:
        self.session = as_session(session, reporter)
        self.store, self.view, self.cfg, self.k_max = self.session.store, view, cfg, k_max

    def __call__(
        self, rows: str, cols: str, k: int, row_sel: np.ndarray | None, col_sel: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        r_idx = self.view.rows[rows] if row_sel is None else self.view.rows[rows][row_sel]
        c_idx = self.view.rows[cols] if col_sel is None else self.view.rows[cols][col_sel]
        sel = [None if s is None else np.asarray(s).tolist() for s in (row_sel, col_sel)]
        kk = min(max(k, self.k_max), len(c_idx))
        key = param_hash(block_key(registry.key_fields(self.cfg), self.view, rows, cols), kk, sel)
        base = f"arrays/topk-{self.cfg.metric}-{key}"
        found = st.find(self.store, base)
        if found is None:
            found = self._compute(base, r_idx, c_idx, kk, f"{rows} x {cols}")
            st.save(self.store, base, *found)
        return found[0][:, :k], found[1][:, :k]

    def _compute(
        self, base: str, r_idx: np.ndarray, c_idx: np.ndarray, k: int, name: str
    ) -> tuple[np.ndarray, np.ndarray]:
        path = features_path(self.store, self.view.feature_hash)
        return stream_topk(
            self.session,
            path,
            r_idx,
            c_idx,
            self.cfg,
            k,
            f"{base}.npy",
            f"{self.cfg.metric} {name} top-{k}",
        )


def stream_topk(
    session: Session,
    path: str,
    r_idx: np.ndarray,
    c_idx: np.ndarray,
    cfg: DistanceConfig,
    k: int,
    parts: str,
    label: str,
) -> tuple[np.ndarray, np.ndarray]:
    """Each of rows `r_idx`'s k nearest of columns `c_idx` (feature-array rows), by row
    blocks written as parts under `parts` (done blocks are skipped), on the session's
    executor. Reads no database: the benchmark calls it directly."""
    store_root = str(session.store.root)
    pixels = int(np.prod(open_features(store_root, path).shape[1:]))
    workers = session.backend.workers()
    size, chunk = block_sizes(len(r_idx), pixels, cfg.tile, session.budget, max(1, workers))
    tasks = [
        TopkTask(
            store_root,
            path,
            np.array(r_idx[r0 : r0 + size]),
            np.asarray(c_idx),
            cfg,
            cfg.device,  # "auto" is resolved where the task runs, for its hardware
            k,
            parts,
            f"r{r0:07d}",
            chunk,
        )
        for r0 in range(0, len(r_idx), size)
    ]
    root = Path(store_root)
    todo = [t for t in tasks if not a.has_part(root, parts, t.key)]
    if len(todo) < len(tasks):
        session.reporter.log(f"{len(tasks) - len(todo)} of {len(tasks)} row blocks already done")
    run_tasks(
        session,
        run_topk,
        todo,
        label=label,
        unit="pairs",
        weight=lambda t: len(t.rows) * len(t.cols),
    )
    got = [a.read_part(root, parts, t.key) for t in tasks]
    return np.concatenate([g["idx"] for g in got]), np.concatenate([g["dist"] for g in got])
