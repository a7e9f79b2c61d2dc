"""`knn`: Experiment 1, each metric used directly as the distance of a KNN classifier."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from percmusic_cli.config import DistanceConfig, KnnConfig
from percmusic_cli.devices import resolve_device
from percmusic_cli.experiments.knn import TIE_RULE, knn_experiment
from percmusic_cli.hashing import param_hash, plain
from percmusic_cli.progress import NullReporter, Reporter
from percmusic_cli.steps import runs
from percmusic_cli.steps.distances import DistanceBlocks
from percmusic_cli.steps.views import PARTS, SplitView
from percmusic_cli.store import Store


def run_knn(
    store: Store,
    view: SplitView,
    metrics: list[str],
    cfg: KnnConfig,
    dist: DistanceConfig,
    reporter: Reporter | None = None,
    force: bool = False,
) -> list[dict[str, Any]]:
    reporter = reporter or NullReporter()
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
        blocks = DistanceBlocks(store, view, dcfg, reporter)
        result = knn_experiment(blocks.get, runs.part_labels(view), cfg, class_order=view.classes)
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
            f"knn {metric}: k={int(result.curve.chosen)} "
            f"test weighted F1 {result.evaluation.f1_weighted:.3f}"
        )
    return rows
