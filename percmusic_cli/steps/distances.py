"""`distances`: pairwise matrices between parts of the split, per metric, tiled and resumable.

A block's key hashes the metric parameters, the feature set and the exact track ids of
its rows and columns, so a block is reused only when all three are unchanged. A block
already stored as its transpose, or inside a stored all x all matrix, is read from there."""

from __future__ import annotations

import dataclasses
import math
import time
from typing import Any

import numpy as np

from percmusic_cli.config import DistanceConfig
from percmusic_cli.devices import resolve_device
from percmusic_cli.errors import UsageError
from percmusic_cli.execution import Session, as_session, memory
from percmusic_cli.hashing import param_hash, plain
from percmusic_cli.metrics import registry
from percmusic_cli.metrics.pairwise import tile_plan
from percmusic_cli.progress import Labelled, Reporter
from percmusic_cli.steps import tile_tasks
from percmusic_cli.steps.features import features_path
from percmusic_cli.steps.views import SplitView
from percmusic_cli.store import Store
from percmusic_cli.store import distances as sd

SPLIT_BLOCKS = (("train", "train"), ("valid", "train"), ("test", "train"))


def metric_list(metric: str) -> list[str]:
    """Registered metric names from "all" (the study's metrics), one name, or a comma list;
    each is loaded, so an unknown or broken one fails here, before anything is written."""
    if metric == "all":
        return list(registry.study_names())
    names = [m.strip() for m in metric.split(",") if m.strip()]
    if not names:
        raise UsageError("--metric: give a metric name, a comma list of them, or all")
    known = registry.names()
    for name in names:
        if name not in known:  # an unknown name: "all" is one more choice
            raise UsageError(f"unknown metric {name!r}: choose one of {', '.join(known)} or all")
    # A registered but broken plugin: its own reason, which "or all" would not fix.
    return [registry.get(m).name for m in dict.fromkeys(names)]


def block_key(key_fields: object, view: SplitView, rows: str, cols: str) -> str:
    """The store key of one block: metric parameters, feature set, exact row and column
    track ids (so a block is never reused for other tracks or parameters)."""
    return param_hash(key_fields, view.feature_hash, view.ids(rows), view.ids(cols))


class DistanceBlocks:
    """Gets (computing when needed) distance blocks of one view under one configuration;
    missing tiles are tasks on the session's executor."""

    def __init__(
        self,
        session: Session | Store,
        view: SplitView,
        cfg: DistanceConfig,
        reporter: Reporter | None = None,
    ) -> None:
        self.session = as_session(session, reporter)
        self.store, self.view, self.cfg = self.session.store, view, cfg
        self.reporter = self.session.reporter
        self.log: list[dict[str, Any]] = []
        self._devices: set[str] = set()  # where the blocks handed out were computed

    def key(self, rows: str, cols: str) -> str:
        return block_key(registry.key_fields(self.cfg), self.view, rows, cols)

    def _stored(self, rows: str, cols: str) -> np.ndarray | None:
        with self.store.connect(read_only=True) as con:
            direct = sd.find(con, self.key(rows, cols))
            flipped = sd.find(con, self.key(cols, rows))
            whole = sd.find(con, self.key("all", "all"))
        if direct:
            self._computed_on(direct)
            return sd.load(self.store, direct)
        if flipped:
            self._computed_on(flipped)
            return sd.load(self.store, flipped).T.copy()
        if whole and rows != "all" and cols != "all":
            self._computed_on(whole)
            pos = {int(r): i for i, r in enumerate(self.view.rows["all"])}
            r = [pos[int(i)] for i in self.view.rows[rows]]
            c = [pos[int(i)] for i in self.view.rows[cols]]
            return sd.load(self.store, whole)[np.ix_(r, c)]
        return None

    def _computed_on(self, ds: sd.DistanceSet) -> None:
        self._devices.add(ds.device or resolve_device(self.cfg.device))

    def device(self) -> str:
        """Where the distances handed out so far were computed, for a run's record: the
        stored sets' device, this machine's resolved `--device` for blocks computed now
        ("cpu+cuda" when they differ). Blocks all read from the store leave torch unloaded
        (its import is most of a `knn` on stored distances)."""
        return "+".join(sorted(self._devices)) or resolve_device(self.cfg.device)

    def get(self, rows: str, cols: str) -> np.ndarray:
        """Distances, rows = tracks of part `rows`, columns = tracks of part `cols`."""
        started = time.monotonic()
        found = self._stored(rows, cols)
        if found is not None:
            self.log.append(self._entry(rows, cols, found.shape, True, started))
            return found
        matrix = self._compute(rows, cols)
        self.log.append(self._entry(rows, cols, matrix.shape, False, started))
        return matrix

    def _entry(
        self, rows: str, cols: str, shape: tuple[int, ...], reused: bool, started: float
    ) -> dict[str, Any]:
        wall = time.monotonic() - started
        pairs = shape[0] * shape[1] if rows != cols else shape[0] * (shape[0] - 1) // 2
        return {
            "metric": self.cfg.metric,
            "block": f"{rows} x {cols}",
            "n_rows": shape[0],
            "n_cols": shape[1],
            "reused": reused,
            "wall_s": round(wall, 3),
            "pairs_per_s": None if reused or wall == 0 else round(pairs / wall, 1),
        }

    def _compute(self, rows: str, cols: str) -> np.ndarray:
        need = memory.dense_bytes([(len(self.view.rows[rows]), len(self.view.rows[cols]))])
        if need > self.session.budget:
            raise UsageError(
                f"a dense {rows} x {cols} {self.cfg.metric} matrix needs {memory.human(need)}, "
                f"past the {memory.human(self.session.budget)} memory budget: `knn` streams "
                "neighbours and `distances stats` samples pairs by themselves; raise "
                "--memory-budget to hold it anyway"
            )
        started = time.monotonic()
        key = self.key(rows, cols)
        ds = sd.DistanceSet(
            key,
            self.cfg.metric,
            self.view.feature_hash,
            rows,
            cols,
            {"key": plain(registry.key_fields(self.cfg)), "tile": self.cfg.tile},
            len(self.view.rows[rows]),
            len(self.view.rows[cols]),
            f"arrays/dist-{self.cfg.metric}-{key}.npy",
        )
        job = tile_tasks.BlockJob(
            str(self.store.root),
            features_path(self.store, self.view.feature_hash),
            self.view.rows[rows],
            None if rows == cols else self.view.rows[cols],
            self.cfg,
            self.cfg.device,  # "auto" is resolved where the task runs, for its hardware
            ds.array_path,
        )
        block = f"{self.cfg.metric} {rows} x {cols}"
        kept = _KeptTiles(
            self.reporter, block, len(tile_plan(*job.shape, self.cfg.tile, rows == cols))
        )
        tile_tasks.run_tiles(
            self.session.with_reporter(Labelled(self.reporter, f"{rows} x {cols}")), job, kept
        )
        matrix = tile_tasks.assemble(job, sd.StoreTileSink(self.store, ds.array_path).load)
        device = resolve_device(self.cfg.device)
        sd.save(self.store, ds, matrix, device, round(time.monotonic() - started, 3))
        self._devices.add(device)
        return matrix


class _KeptTiles:
    """Counts the saved tiles of one block, for an interrupt's message."""

    def __init__(self, reporter: Reporter, block: str, total: int) -> None:
        self.reporter, self.block, self.total, self.done = reporter, block, total, 0

    def found(self, n: int) -> None:
        """`n` tiles were already stored by an earlier run: an interrupt before the next
        tile still has these to resume from."""
        self.done += n
        if n:
            self.reporter.kept(f"{self.done} of {self.total} distance tiles of {self.block} kept")

    def saved(self, n: int) -> None:
        self.done += n
        self.reporter.kept(f"{self.done} of {self.total} distance tiles of {self.block} kept")


def compute_distances(
    store: Session | Store,
    view: SplitView,
    metrics: list[str],
    pairs: str,
    base: DistanceConfig,
    reporter: Reporter | None = None,
) -> list[dict[str, Any]]:
    session = as_session(store, reporter)
    if pairs not in ("split", "all"):
        raise UsageError(f"--pairs {pairs!r}: choose split or all")
    wanted = SPLIT_BLOCKS if pairs == "split" else (("all", "all"),)
    log: list[dict[str, Any]] = []
    for metric in metrics:
        blocks = DistanceBlocks(session, view, dataclasses.replace(base, metric=metric))
        for rows, cols in wanted:
            if len(view.rows[rows]) and len(view.rows[cols]):
                blocks.get(rows, cols)
        log += blocks.log
    return log


def distance_stats(
    store: Session | Store,
    view: SplitView,
    metrics: list[str],
    base: DistanceConfig,
    reporter: Reporter | None = None,
) -> list[dict[str, Any]]:
    """Fig. 1 statistics from the all x all matrix of each metric (computed if missing),
    and per metric one row of group "hubness": the k-occurrence report of that matrix."""
    from percmusic_cli.experiments.distributions import summarise
    from percmusic_cli.experiments.hubness import hubness_report
    from percmusic_cli.experiments.separation import pooled_stats
    from percmusic_cli.experiments.stats import distance_groups

    session = as_session(store, reporter)
    reporter = session.reporter
    view, sample = sampled_view(view, session.budget)
    if sample:
        reporter.log(
            f"Fig. 1 from the pairs among {sample['sample_tracks']} of {sample['sample_of']} "
            f"tracks (seed {sample['sample_seed']}): all pairs would pass the memory budget"
        )
    out: list[dict[str, Any]] = []
    for metric in metrics:
        blocks = DistanceBlocks(session, view, dataclasses.replace(base, metric=metric))
        matrix = blocks.get("all", "all")
        labels = [view.labels[i] for i in view.rows["all"]]
        stats = [{**s, **sample} for s in summarise(distance_groups(matrix, labels))]
        stats += [{**s, **sample} for s in pooled_stats(matrix, labels)]
        sd.save_stats(session.store, blocks.key("all", "all"), metric, stats)
        out += [{"metric": metric, **s} for s in stats]
        # Not stored with the groups: a different shape, and cheap to recompute.
        hub = {**hubness_report(matrix, view.ids("all")), "label": registry.get(metric).label}
        out.append({"metric": metric, "group": "hubness", "hubness": hub})
    return out


SAMPLE_SEED = 0


def sampled_view(view: SplitView, budget: int = memory.DEFAULT) -> tuple[SplitView, dict[str, int]]:
    """The view itself while its all x all matrix fits the memory budget; else the view cut
    to a seeded sample of tracks whose matrix fits, and the sample's size (recorded with
    the statistics)."""
    n = len(view.rows["all"])
    fits = math.isqrt(budget // 8)
    if n <= fits:
        return view, {}
    rng = np.random.default_rng(SAMPLE_SEED)
    keep = np.sort(rng.choice(view.rows["all"], size=max(fits, 2), replace=False))
    cut = dataclasses.replace(view, rows={**view.rows, "all": keep})
    return cut, {"sample_tracks": len(keep), "sample_of": n, "sample_seed": SAMPLE_SEED}
