"""Any registered distance classifier with a `fit` (ClassifierSpec) on the stored distance
blocks, one run per metric: the generic step, so a new classifier needs no step of its own.

A run's key hashes the classifier's name and settings, the metric and its settings, the
feature set and the exact track ids of each part; a stored run with that key is reused.
The classifier is fitted on the train part and scored on test (it may select on valid)."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from percmusic_cli.classifiers import registry
from percmusic_cli.config import DistanceConfig
from percmusic_cli.errors import UsageError
from percmusic_cli.hashing import param_hash, plain
from percmusic_cli.metrics import registry as metric_registry
from percmusic_cli.progress import NullReporter, Reporter
from percmusic_cli.steps import runs
from percmusic_cli.steps.distances import DistanceBlocks
from percmusic_cli.steps.views import PARTS, SplitView
from percmusic_cli.store import Store


def run_distance_classifier(
    store: Store,
    view: SplitView,
    name: str,
    metrics: list[str],
    dist: DistanceConfig,
    settings: Any = None,
    reporter: Reporter | None = None,
    force: bool = False,
) -> list[dict[str, Any]]:
    """One summary row per metric (`runs.summary_row`); `settings` None: the defaults."""
    spec = registry.get(name)
    if spec.fit is None:
        raise UsageError(f"classifier {name!r} has no generic fit: it runs by its own command")
    chosen = spec.default_settings() if settings is None else settings
    if spec.config_type is not None and type(chosen) is not spec.config_type:
        raise UsageError(f"classifier {name!r} takes {spec.config_type.__name__} settings")
    reporter = reporter or NullReporter()
    rows = []
    for metric in metrics:
        dcfg = dataclasses.replace(dist, metric=metric)
        fields = metric_registry.key_fields(dcfg)
        parts = {p: view.ids(p) for p in PARTS}
        key = param_hash(spec.name, chosen, fields, view.feature_hash, parts)
        found = None if force else runs.existing_run(store, key)
        if found is not None:
            rows.append(runs.summary_row(found["run_id"], spec.name, metric, found["result"], True))
            continue
        started = time.monotonic()
        blocks = DistanceBlocks(store, view, dcfg, reporter)
        result = spec.fit(blocks.get, runs.part_labels(view), chosen, view.classes)
        config = {spec.name: plain(chosen), "distance": plain(fields)}
        run_id = runs.record(
            store,
            view,
            spec.name,
            metric,
            key,
            config,
            int(getattr(chosen, "seed", 0)),
            blocks.device(),
            time.monotonic() - started,
            result,
            ["train"],
        )
        rows.append(runs.summary_row(run_id, spec.name, metric, result.to_dict(), False))
        reporter.log(
            f"{spec.name} {metric}: {spec.param}={result.curve.chosen:g} "
            f"test weighted F1 {result.evaluation.f1_weighted:.3f}"
        )
    return rows
