"""Tiled, resumable pairwise distance matrices between two sets of images.

Each image's state (NLPD pyramid, MS-SSIM local statistics, MSE pixels: whatever the metric's
fast path in the registry prepares, or the images themselves on the generic path) is prepared
once; a tile is a pure function of two prepared sets and two index ranges, so tiles can run anywhere
and be stored one by one: a killed run resumes at the first tile its sink lacks. The sink
(the store, in the application) namespaces tiles by the inputs' and parameters' hash."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

import numpy as np

from percmusic_cli.config import DistanceConfig
from percmusic_cli.devices import one_thread_per_op, resolve_device, set_threads
from percmusic_cli.errors import ArrayIntegrityError, DataError, UsageError
from percmusic_cli.metrics import _contract, registry
from percmusic_cli.metrics._checks import require_side
from percmusic_cli.progress import NullReporter, Reporter


@dataclass(frozen=True)
class Prepared:
    """Per-image state of one image set for one metric, on the engine's device."""

    metric: str
    n: int
    image_shape: tuple[int, int]
    state: Any


class TileSpec(NamedTuple):
    key: str
    r: slice
    c: slice


class TileSink(Protocol):
    """Where finished tiles go (the store implements it; `MemoryTileSink` for tests)."""

    def has(self, key: str) -> bool: ...

    def load(self, key: str) -> np.ndarray: ...

    def save(self, key: str, tile: np.ndarray) -> None: ...


class MemoryTileSink:
    """Tiles kept in a dict; no persistence."""

    def __init__(self) -> None:
        self.tiles: dict[str, np.ndarray] = {}

    def has(self, key: str) -> bool:
        return key in self.tiles

    def load(self, key: str) -> np.ndarray:
        return self.tiles[key]

    def save(self, key: str, tile: np.ndarray) -> None:
        self.tiles[key] = np.array(tile, dtype=np.float64, copy=True)


class PairwiseEngine:
    """Computes distance tiles for `config.metric` on `device` ("cpu", "cuda" or "auto"):
    through the metric's fast path when its spec has one, else the generic batched path."""

    def __init__(self, config: DistanceConfig, device: str = "cpu") -> None:
        self.spec = registry.get(config.metric)
        self.settings = registry.settings(self.spec, config)
        self.config = config
        self.device = resolve_device(device)
        self._declared_checked = False
        set_threads(config.threads)

    @property
    def parallel_tiles(self) -> bool:
        """Whether CPU tiles may run side by side (one torch thread each)."""
        fast = self.spec.fast_pairwise
        return fast is None or fast.parallel_tiles

    def prepare(self, images: np.ndarray) -> Prepared:
        """Per-image state of (N, H, W) images in [0, 1], computed once."""
        if images.ndim != 3 or images.shape[0] < 1:
            raise DataError(f"expected a non-empty (N, H, W) image stack, got {images.shape}")
        h, w = int(images.shape[1]), int(images.shape[2])
        require_side(h, w, self.spec.name, registry.min_side(self.spec, self.settings))
        images = np.ascontiguousarray(images, dtype=np.float32)
        if not np.isfinite(images).all():
            bad = np.flatnonzero(~np.isfinite(images.reshape(len(images), -1)).all(axis=1))
            raise DataError(
                f"images at rows {', '.join(map(str, bad[:5]))}"
                f"{f' and {len(bad) - 5} more' if len(bad) > 5 else ''} "
                "hold NaN or infinite values"
            )
        if self.spec.is_plugin and not self._declared_checked:
            # built-ins' direction and symmetry are tested, not sampled; once per engine
            _contract.check_declared(self.spec, self.settings, images)
            self._declared_checked = True
        fast = self.spec.fast_pairwise
        if fast is not None:
            state = _contract.guarded(
                self.spec, "preparing images", fast.prepare, images, self.settings, self.device
            )
        else:
            from percmusic_cli.metrics import _generic  # torch: only a metric without a fast path

            state = _generic.prepare(self.spec, images, self.settings, self.device)
        return Prepared(self.spec.name, images.shape[0], (h, w), state)

    def tile(self, rows: Prepared, cols: Prepared, r: slice, c: slice) -> np.ndarray:
        """Distances between rows[r] and cols[c]: float64 (len r, len c). Pure."""
        if rows.image_shape != cols.image_shape or rows.metric != cols.metric:
            raise DataError(
                f"cannot compare {rows.metric} state of {rows.image_shape} images "
                f"with {cols.metric} state of {cols.image_shape} images"
            )
        if rows.metric != self.spec.name:
            raise UsageError(f"{rows.metric} state given to a {self.spec.name} engine")
        fast = self.spec.fast_pairwise
        if fast is None:
            from percmusic_cli.metrics import _generic

            block = _generic.tile(rows.state, cols.state, r, c)
        else:
            block = self._fast_tile(fast, rows, cols, r, c)
            if not self.spec.symmetric:  # the documented rule: the mean of both orders
                block = (block + self._fast_tile(fast, cols, rows, c, r).T) / 2
        # Before any sink sees it: a NaN tile is never stored, so never reused.
        return _contract.check_finite_tile(self.spec, block, r, c)

    def _fast_tile(
        self, fast: registry.FastPairwise, rows: Prepared, cols: Prepared, r: slice, c: slice
    ) -> np.ndarray:
        block = _contract.guarded(self.spec, "on a tile", fast.tile, rows.state, cols.state, r, c)
        want = (len(range(rows.n)[r]), len(range(cols.n)[c]))
        if not isinstance(block, np.ndarray) or block.shape != want:
            got = block.shape if isinstance(block, np.ndarray) else type(block).__name__
            raise UsageError(
                f"metric {self.spec.name!r}: its pairwise tile gave {got}, expected an array "
                f"of shape {want}"
            )
        return np.asarray(block, dtype=np.float64)


def tile_plan(n_rows: int, n_cols: int, tile: int, symmetric: bool) -> list[TileSpec]:
    """Tiles of `tile` x `tile` covering the matrix, row-major; symmetric: upper ones only."""
    if tile < 1:
        raise UsageError(f"tile size must be at least 1, got {tile}")
    if symmetric and n_rows != n_cols:
        raise UsageError("a symmetric matrix must be square")
    plan = []
    for r0 in range(0, n_rows, tile):
        for c0 in range(r0 if symmetric else 0, n_cols, tile):
            r = slice(r0, min(r0 + tile, n_rows))
            c = slice(c0, min(c0 + tile, n_cols))
            key = f"r{r.start:06d}-{r.stop:06d}_c{c.start:06d}-{c.stop:06d}"
            plan.append(TileSpec(key, r, c))
    return plan


def _pairs_in(spec: TileSpec, symmetric: bool) -> int:
    nr, nc = spec.r.stop - spec.r.start, spec.c.stop - spec.c.start
    if symmetric and spec.r == spec.c:
        return nr * (nr - 1) // 2
    return nr * nc


def _symmetrise(block: np.ndarray) -> np.ndarray:
    """Upper triangle mirrored, exact zero diagonal: the stored diagonal tiles are symmetric."""
    upper = np.triu(block, k=1)
    return upper + upper.T


def _place(out: np.ndarray, spec: TileSpec, block: np.ndarray, symmetric: bool) -> None:
    want = (spec.r.stop - spec.r.start, spec.c.stop - spec.c.start)
    if block.shape != want:
        raise ArrayIntegrityError(f"tile {spec.key} has shape {block.shape}, expected {want}")
    out[spec.r, spec.c] = block
    if symmetric:
        out[spec.c, spec.r] = block.T


def compute_matrix(
    engine: PairwiseEngine,
    rows: np.ndarray,
    cols: np.ndarray | None,
    tile: int,
    sink: TileSink,
    reporter: Reporter | None = None,
) -> np.ndarray:
    """Full float64 distance matrix rows x cols (cols None: rows x rows, symmetric, zero
    diagonal). Tiles the sink already has are loaded, not recomputed; each new tile is saved as
    soon as it is computed."""
    reporter = reporter or NullReporter()
    symmetric = cols is None
    n = rows.shape[0]
    m = n if cols is None else cols.shape[0]
    plan = tile_plan(n, m, tile, symmetric)
    out = np.zeros((n, m), dtype=np.float64)
    todo = []
    for spec in plan:
        if sink.has(spec.key):
            _place(out, spec, np.asarray(sink.load(spec.key), dtype=np.float64), symmetric)
        else:
            todo.append(spec)
    if len(todo) < len(plan):
        reporter.log(f"{len(plan) - len(todo)} of {len(plan)} tiles already computed")
    if todo:
        _run_tiles(engine, rows, cols, todo, sink, reporter, out)
    if symmetric:
        np.fill_diagonal(out, 0.0)
    return out


def _run_tiles(
    engine: PairwiseEngine,
    rows: np.ndarray,
    cols: np.ndarray | None,
    todo: list[TileSpec],
    sink: TileSink,
    reporter: Reporter,
    out: np.ndarray,
) -> None:
    symmetric = cols is None
    prep_rows = engine.prepare(rows)
    prep_cols = prep_rows if cols is None else engine.prepare(cols)
    total = sum(_pairs_in(spec, symmetric) for spec in todo)
    task = reporter.task(f"{engine.config.metric} distances", total=total, unit="pairs")
    try:
        with _tile_executor(engine) as pool:
            blocks = pool.map(lambda s: engine.tile(prep_rows, prep_cols, s.r, s.c), todo)
            for spec, block in zip(todo, blocks, strict=True):
                if symmetric and spec.r == spec.c:
                    block = _symmetrise(block)
                sink.save(spec.key, block)
                _place(out, spec, block, symmetric)
                task.advance(_pairs_in(spec, symmetric))
    finally:
        task.close()


@contextlib.contextmanager
def _tile_executor(engine: PairwiseEngine) -> Iterator[Executor]:
    """CPU tiles of a metric that allows it (`FastPairwise.parallel_tiles`; the generic path
    does): one torch thread each (a fixed reduction order, so a resumed matrix is
    bit-identical), as many tiles side by side as torch had threads. Other tiles (MS-SSIM's
    numba kernel parallelises inside a tile) and GPU tiles run one after another."""
    if not engine.parallel_tiles or engine.device != "cpu":
        with ThreadPoolExecutor(max_workers=1) as pool:
            yield pool
        return
    with (
        one_thread_per_op("cpu") as workers,
        ThreadPoolExecutor(max_workers=workers, initializer=_one_torch_thread) as pool,
    ):
        yield pool


def _one_torch_thread() -> None:
    """Each pool thread sets its own thread count: MKL in a fresh thread otherwise splits a
    product over every core (seen: tiles differing in the last bit from a Dask worker's, and
    so from one machine's core count to another's)."""
    import torch

    torch.set_num_threads(1)
