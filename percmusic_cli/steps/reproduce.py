"""`reproduce`: the whole study on the ingested, filtered dataset, reusing what is stored.

Rows MSE / 1 - MS-SSIM / NLPD: KNN with the metric as distance (Experiment 1) beside
logistic regression on the latents of an autoencoder trained on uniform noise with the
metric as loss (Experiment 2); the two controls below."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from percmusic_cli.config import (
    ClassifyConfig,
    DistanceConfig,
    KnnConfig,
)
from percmusic_cli.config import preset as merge_preset
from percmusic_cli.devices import resolve_device
from percmusic_cli.execution import Session, as_session
from percmusic_cli.metrics import registry
from percmusic_cli.progress import NullReporter, Reporter
from percmusic_cli.steps.classify import (
    classify_with,
    load_encoder,
    raw_encoder,
    untrained_encoder,
)
from percmusic_cli.steps.knn import run_knn
from percmusic_cli.steps.train import train_models
from percmusic_cli.steps.views import SplitView
from percmusic_cli.store import Store


def ensure_inputs(
    store: Store, dataset: str, device: str = "auto", reporter: Reporter | None = None
) -> None:
    """The README's earlier steps, when missing: an auto split, features with the
    default parameters; each one said on the reporter."""
    from percmusic_cli.steps.features import compute_features
    from percmusic_cli.steps.split import make_split
    from percmusic_cli.store import tables as t

    reporter = reporter or NullReporter()
    with store.connect(read_only=True) as con:
        has_split = t.active_split(con, dataset) is not None
        has_features = t.latest_feature_hash(con, dataset) is not None
    if not has_split:
        reporter.log(f"reproduce: {dataset!r} has no split; running `percmusic filter` (auto)")
        summary = make_split(store, dataset, "auto")
        for line in summary.notes:
            reporter.log(f"note: {line}")
    if not has_features:
        reporter.log(
            f"reproduce: {dataset!r} has no features; running `percmusic features` "
            "with the default parameters"
        )
        compute_features(store, dataset, device=device, reporter=reporter)


def study_metrics(metrics: Sequence[str] | None) -> tuple[str, ...]:
    """The metrics a study runs: the paper's three by default, else the named ones, each
    checked against the registry (UsageError listing the registered names)."""
    if not metrics:
        return registry.study_names()
    chosen = tuple(dict.fromkeys(m.strip() for m in metrics if m.strip()))
    for m in chosen:
        registry.get(m)
    return chosen


def reproduce(
    store: Session | Store,
    view: SplitView,
    preset: str = "default",
    device: str = "auto",
    reporter: Reporter | None = None,
    seed: int = 0,
    metrics: Sequence[str] | None = None,
) -> dict[str, Any]:
    # Every option is checked here, before the first step writes anything.
    train_base, model_cfg = merge_preset(preset, device=device, seed=seed)
    session = as_session(store, reporter)
    store, reporter = session.store, session.reporter
    metrics = study_metrics(metrics)
    knn_rows = run_knn(
        session, view, list(metrics), KnnConfig(seed=seed), DistanceConfig(device=device)
    )
    ccfg = ClassifyConfig(seed=seed, device=device)
    rows = []
    labels = {m: registry.get(m).label for m in metrics}
    cfgs = [dataclasses.replace(train_base, loss=m) for m in metrics]
    # One call for every loss: with a Dask scheduler each training is its own task.
    reporter.log("reproduce: autoencoders with the " + ", ".join(labels.values()) + " losses")
    models = train_models(session, cfgs, model_cfg, view)
    for metric, knn_row, model in zip(metrics, knn_rows, models, strict=True):
        label = labels[metric]
        enc = load_encoder(store, model["model_id"], resolve_device(device))
        latent = classify_with(store, view, enc, ccfg, reporter)
        rows.append(
            {
                "metric": metric,
                "label": label,
                "knn": knn_row,
                "latent": latent,
                "model_id": model["model_id"],
            }
        )
    raw = classify_with(store, view, raw_encoder(), ccfg, reporter)
    untrained = classify_with(store, view, untrained_encoder(model_cfg, seed), ccfg, reporter)
    return {
        "dataset": view.dataset,
        "split": view.split,
        "preset": preset,
        "rows": rows,
        "controls": [raw, untrained],
    }
