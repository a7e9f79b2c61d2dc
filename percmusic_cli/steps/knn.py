"""`knn`: Experiment 1, each metric used directly as the distance of a KNN classifier."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping, Sequence
from typing import Any

from percmusic_cli.config import DistanceConfig, KnnConfig
from percmusic_cli.devices import resolve_device
from percmusic_cli.execution import Session, as_session, memory
from percmusic_cli.experiments.knn import TIE_RULE, NeighbourLookup, knn_experiment
from percmusic_cli.experiments.stats import cv_reason
from percmusic_cli.hashing import param_hash, plain
from percmusic_cli.progress import Reporter
from percmusic_cli.steps import runs
from percmusic_cli.steps.distances import DistanceBlocks
from percmusic_cli.steps.neighbours import StreamedNeighbours
from percmusic_cli.steps.views import PARTS, SplitView
from percmusic_cli.store import Store


def run_knn(
    store: Session | Store,
    view: SplitView,
    metrics: list[str],
    cfg: KnnConfig,
    dist: DistanceConfig,
    reporter: Reporter | None = None,
    force: bool = False,
) -> list[dict[str, Any]]:
    session = as_session(store, reporter)
    store, reporter = session.store, session.reporter
    rows = []
    for metric in metrics:
        dcfg = dataclasses.replace(dist, metric=metric)
        key = param_hash(
            "knn",
            cfg,
            dcfg.key_fields(),
            view.feature_hash,
            {p: view.ids(p) for p in PARTS},
            TIE_RULE,
        )
        found = None if force else runs.existing_run(store, key)
        if found is not None:
            rows.append(runs.summary_row(found["run_id"], "knn", metric, found["result"], True))
            continue
        started = time.monotonic()
        blocks = DistanceBlocks(session, view, dcfg)
        labels = runs.part_labels(view)
        neighbours, note = choose_path(session, view, cfg, dcfg, labels)
        result = knn_experiment(
            blocks.get, labels, cfg, class_order=view.classes, neighbours=neighbours
        )
        result.notes.append(note)
        fit = ["train", "valid"] if cfg.refit == "train+valid" else ["train"]
        config = {
            "knn": plain(cfg),
            "distance": plain(dcfg.key_fields()),
            "tie_rule": TIE_RULE,
        }
        run_id = runs.record(
            store,
            view,
            "knn",
            metric,
            key,
            config,
            cfg.seed,
            resolve_device(dcfg.device),
            time.monotonic() - started,
            result,
            fit,
        )
        rows.append(runs.summary_row(run_id, "knn", metric, result.to_dict(), False))
        reporter.log(
            f"knn {metric} ({note}): k={int(result.curve.chosen)} "
            f"test weighted F1 {result.evaluation.f1_weighted:.3f}"
        )
    return rows


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
