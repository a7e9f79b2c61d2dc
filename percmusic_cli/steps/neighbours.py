"""KNN without dense matrices: each query's k nearest fit tracks, streamed tile by tile.

Chosen when the dense blocks a KNN run needs would pass the memory budget
(`steps.memory`). A task takes one block of query rows (feature-array row ids) and all the
fit columns, memory-maps the features, prepares its rows once and the columns chunk by
chunk, and folds each tile into a running top-k (`experiments.topk`); its (idx, dist)
is written as a part. Tiles lie on the same grid as the dense path's tiles, so the
distances, hence the neighbours and votes, are the same bits. Tasks run in this process
or on Dask (`steps.scheduler`); the client alone writes the store's tables."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from percmusic_cli.config import DistanceConfig
from percmusic_cli.devices import one_thread_per_op, resolve_device
from percmusic_cli.experiments.topk import TopK
from percmusic_cli.hashing import param_hash
from percmusic_cli.metrics.pairwise import PairwiseEngine
from percmusic_cli.progress import NullReporter, Reporter
from percmusic_cli.steps import scheduler
from percmusic_cli.steps.distances import block_key
from percmusic_cli.steps.features import features_path
from percmusic_cli.steps.tile_tasks import open_features
from percmusic_cli.steps.views import SplitView
from percmusic_cli.store import Store
from percmusic_cli.store import arrays as a
from percmusic_cli.store import topk as st

# Columns prepared at once inside a task: bounds a task's prepared state (about 175 kB per
# 128 x 128 NLPD image, so ~180 MB) while re-preparing the columns once per row block.
COL_CHUNK_TILES = 16
# Row blocks per matrix aimed at: enough to keep every worker busy to the end.
ROW_BLOCKS = 24


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


def run_topk(task: TopkTask) -> tuple[str, int]:
    """One row block's k nearest columns, written as a part; returns (key, pairs)."""
    images = open_features(task.store_root, task.features_path)
    engine = PairwiseEngine(task.config, device=task.device)
    step = task.config.tile
    chunk = step * COL_CHUNK_TILES
    acc = TopK(len(task.rows), task.k)
    with one_thread_per_op(engine.device):
        rows = engine.prepare(np.asarray(images[task.rows]))
        for c0 in range(0, len(task.cols), chunk):
            cols = engine.prepare(np.asarray(images[task.cols[c0 : c0 + chunk]]))
            for r0 in range(0, rows.n, step):
                r = slice(r0, min(r0 + step, rows.n))
                for cc in range(0, cols.n, step):
                    c = slice(cc, min(cc + step, cols.n))
                    acc.push(r, engine.tile(rows, cols, r, c), c0 + cc)
    idx, dist = acc.result()
    a.write_part(Path(task.store_root), task.parts_path, task.key, {"idx": idx, "dist": dist})
    return task.key, len(task.rows) * len(task.cols)


class StreamedNeighbours:
    """A `knn.NeighbourLookup` over streamed, stored top-k artefacts of one view."""

    def __init__(
        self, store: Store, view: SplitView, cfg: DistanceConfig, reporter: Reporter | None = None
    ) -> None:
        self.store, self.view, self.cfg = store, view, cfg
        self.reporter = reporter or NullReporter()

    def __call__(
        self, rows: str, cols: str, k: int, row_sel: np.ndarray | None, col_sel: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        r_idx = self.view.rows[rows] if row_sel is None else self.view.rows[rows][row_sel]
        c_idx = self.view.rows[cols] if col_sel is None else self.view.rows[cols][col_sel]
        sel = [None if s is None else np.asarray(s).tolist() for s in (row_sel, col_sel)]
        key = param_hash(block_key(self.cfg.key_fields(), self.view, rows, cols), k, sel)
        base = f"arrays/topk-{self.cfg.metric}-{key}"
        found = st.find(self.store, base)
        if found is not None:
            return found
        idx, dist = self._compute(base, r_idx, c_idx, k, f"{rows} x {cols}")
        st.save(self.store, base, idx, dist)
        return idx, dist

    def _compute(
        self, base: str, r_idx: np.ndarray, c_idx: np.ndarray, k: int, name: str
    ) -> tuple[np.ndarray, np.ndarray]:
        step = self.cfg.tile
        size = step * max(1, math.ceil(len(r_idx) / (step * ROW_BLOCKS)))
        parts = f"{base}.npy"
        tasks = [
            TopkTask(
                str(self.store.root),
                features_path(self.store, self.view.feature_hash),
                np.array(r_idx[r0 : r0 + size]),
                np.asarray(c_idx),
                self.cfg,
                resolve_device(self.cfg.device),
                k,
                parts,
                f"r{r0:07d}",
            )
            for r0 in range(0, len(r_idx), size)
        ]
        todo = [t for t in tasks if not a.has_part(self.store.root, parts, t.key)]
        if len(todo) < len(tasks):
            self.reporter.log(f"{len(tasks) - len(todo)} of {len(tasks)} row blocks already done")
        self._run(todo, f"{self.cfg.metric} {name} top-{k}")
        got = [a.read_part(self.store.root, parts, t.key) for t in tasks]
        return np.concatenate([g["idx"] for g in got]), np.concatenate([g["dist"] for g in got])

    def _run(self, todo: list[TopkTask], label: str) -> None:
        if not todo:
            return
        task = self.reporter.task(label, total=sum(len(t.rows) * len(t.cols) for t in todo))
        try:
            if not scheduler.current().is_dask:
                for t in todo:
                    task.advance(run_topk(t)[1])
                return
            from distributed import as_completed

            client = scheduler.client()
            futures = [
                client.submit(run_topk, t, key=f"topk-{t.parts_path}-{t.key}", retries=2)
                for t in todo
            ]
            for fut in as_completed(futures):
                task.advance(fut.result()[1])
        finally:
            task.close()
