"""`knn`: Experiment 1, each metric used directly as the distance of a KNN classifier."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from percmusic_cli.classifiers.knn import SPEC as KNN_SPEC
from percmusic_cli.config import DistanceConfig, KnnConfig
from percmusic_cli.devices import resolve_device
from percmusic_cli.errors import UsageError
from percmusic_cli.execution import Session, as_session, memory
from percmusic_cli.experiments.hubness import HUBNESS_METHODS, reduce_hubness
from percmusic_cli.experiments.knn import TIE_RULE, NeighbourLookup, knn_experiment
from percmusic_cli.experiments.stats import cv_reason
from percmusic_cli.hashing import param_hash, plain
from percmusic_cli.metrics import registry as metric_registry
from percmusic_cli.progress import Reporter
from percmusic_cli.steps import runs
from percmusic_cli.steps.distances import DistanceBlocks
from percmusic_cli.steps.neighbours import StreamedNeighbours
from percmusic_cli.steps.views import PARTS, SplitView
from percmusic_cli.store import Store

KNN = KNN_SPEC.name  # the run kind, and the first part of each run's key: "knn"


def run_knn(
    store: Session | Store,
    view: SplitView,
    metrics: list[str],
    cfg: KnnConfig,
    dist: DistanceConfig,
    reporter: Reporter | None = None,
    force: bool = False,
    hubness: str = "none",
) -> list[dict[str, Any]]:
    session = as_session(store, reporter)
    store, reporter = session.store, session.reporter
    check_weights(metrics, cfg)
    check_hubness(hubness)
    rows = []
    for metric in metrics:
        dcfg = dataclasses.replace(dist, metric=metric)
        # The hubness reduction enters the key only when used, so earlier keys stay valid.
        extra = () if hubness == "none" else ({"hubness": hubness},)
        key = param_hash(
            KNN,
            cfg,
            metric_registry.key_fields(dcfg),
            view.feature_hash,
            {p: view.ids(p) for p in PARTS},
            TIE_RULE,
            *extra,
        )
        found = None if force else runs.existing_run(store, key)
        if found is not None:
            rows.append(runs.summary_row(found["run_id"], KNN, metric, found["result"], True))
            continue
        started = time.monotonic()
        blocks = DistanceBlocks(session, view, dcfg)
        labels = runs.part_labels(view)
        if hubness == "none":
            neighbours, note = choose_path(session, view, cfg, dcfg, labels)
            get = blocks.get
        else:  # rescaling needs every track's distances to train: dense blocks only
            neighbours, note = None, f"hubness reduction {hubness} on dense distance blocks"
            get = ReducedBlocks(blocks.get, hubness).get
        result = knn_experiment(get, labels, cfg, class_order=view.classes, neighbours=neighbours)
        result.notes.append(note)
        fit = ["train", "valid"] if cfg.refit == "train+valid" else ["train"]
        config = {
            KNN: plain(cfg),
            "distance": plain(metric_registry.key_fields(dcfg)),
            "tie_rule": TIE_RULE,
            **({} if hubness == "none" else {"hubness": hubness}),
        }
        run_id = runs.record(
            store,
            view,
            KNN,
            metric,
            key,
            config,
            cfg.seed,
            blocks.device() if neighbours is None else resolve_device(dcfg.device),
            time.monotonic() - started,
            result,
            fit,
        )
        rows.append(runs.summary_row(run_id, KNN, metric, result.to_dict(), False))
        reporter.log(
            f"knn {metric}{'' if hubness == 'none' else ' ' + hubness} ({note}): "
            f"k={int(result.curve.chosen)} "
            f"test weighted F1 {result.evaluation.f1_weighted:.3f}"
        )
    return rows


def check_weights(metrics: Sequence[str], cfg: KnnConfig) -> None:
    """--weights distance weighs by 1/d, which needs distances (>= 0): a similarity's stored
    values are its negation, so it is refused by name, before anything runs."""
    if cfg.weights != "distance":
        return
    for metric in metrics:
        if not metric_registry.get(metric).lower_is_better:
            raise UsageError(
                f"--weights distance needs a distance, but metric {metric!r} is a similarity "
                "(higher is better): use --weights uniform with it"
            )


def check_hubness(hubness: str) -> None:
    if hubness not in HUBNESS_METHODS:
        raise UsageError(f"--hubness {hubness!r}: choose one of {', '.join(HUBNESS_METHODS)}")


class ReducedBlocks:
    """Distance blocks rescaled by a hubness reduction, each track's reference set being
    the training tracks (experiments/hubness.py)."""

    def __init__(self, get: Callable[[str, str], np.ndarray], method: str) -> None:
        self._raw, self.method = get, method
        self._refs: dict[str, np.ndarray] = {}

    def _ref(self, part: str) -> np.ndarray:
        if part not in self._refs:
            ref = np.array(self._raw(part, "train"), dtype=np.float64)
            if part == "train":
                np.fill_diagonal(ref, np.nan)  # a track is not its own reference
            self._refs[part] = ref
        return self._refs[part]

    def get(self, rows: str, cols: str) -> np.ndarray:
        d = self._raw(rows, cols)
        return reduce_hubness(self.method, d, self._ref(rows), self._ref(cols))


def choose_path(
    session: Session,
    view: SplitView,
    cfg: KnnConfig,
    dcfg: DistanceConfig,
    labels: Mapping[str, Sequence[str]],
) -> tuple[NeighbourLookup | None, str]:
    """Dense blocks (None: from `DistanceBlocks.get`) while they fit the memory budget,
    else a streamed top-k; and a note saying which path ran and why."""
    n = {p: len(view.rows[p]) for p in PARTS}
    cv = cv_reason(labels, cfg.select_on, len(set(labels["train"]))) is not None
    shapes = [(n["train"], n["train"]) if cv else (n["valid"], n["train"]), (n["test"], n["train"])]
    if cfg.refit == "train+valid":
        shapes.append((n["test"], n["valid"]))
    need, limit = memory.dense_bytes(shapes), session.budget
    if need <= limit:
        return None, f"dense distance blocks, {memory.human(need)} within the budget"
    note = (
        f"streamed top-{cfg.k_max} neighbours: dense blocks would need {memory.human(need)}, "
        f"past the {memory.human(limit)} memory budget"
    )
    return StreamedNeighbours(session, view, dcfg, k_max=cfg.k_max), note
