"""`reproduce`: the whole study on the ingested, filtered dataset, reusing what is stored.

Rows MSE / 1 - MS-SSIM / NLPD: KNN with the metric as distance (Experiment 1) beside
logistic regression on the latents of an autoencoder trained on uniform noise with the
metric as loss (Experiment 2); the two controls below."""

from __future__ import annotations

import dataclasses
from typing import Any

from percmusic_cli.config import (
    ClassifyConfig,
    DistanceConfig,
    KnnConfig,
)
from percmusic_cli.config import preset as merge_preset
from percmusic_cli.devices import resolve_device
from percmusic_cli.metrics import registry
from percmusic_cli.progress import NullReporter, Reporter
from percmusic_cli.steps.classify import (
    classify_with,
    load_encoder,
    raw_encoder,
    untrained_encoder,
)
from percmusic_cli.steps.knn import run_knn
from percmusic_cli.steps.train import train_model
from percmusic_cli.steps.views import SplitView
from percmusic_cli.store import Store


def reproduce(
    store: Store,
    view: SplitView,
    preset: str = "default",
    device: str = "auto",
    reporter: Reporter | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    # Every option is checked here, before the first step writes anything.
    train_base, model_cfg = merge_preset(preset, device=device, seed=seed)
    reporter = reporter or NullReporter()
    metrics = registry.study_names()
    knn_rows = run_knn(
        store, view, list(metrics), KnnConfig(seed=seed), DistanceConfig(device=device), reporter
    )
    ccfg = ClassifyConfig(seed=seed, device=device)
    rows = []
    for metric, knn_row in zip(metrics, knn_rows, strict=True):
        label = registry.get(metric).label
        cfg = dataclasses.replace(train_base, loss=metric)
        reporter.log(f"reproduce: autoencoder with the {label} loss")
        model = train_model(store, cfg, model_cfg, view, reporter)
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
