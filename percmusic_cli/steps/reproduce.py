"""`reproduce`: the whole study on the ingested, filtered dataset, reusing what is stored.

Rows MSE / 1 - MS-SSIM / NLPD: KNN with the metric as distance (Experiment 1) beside
logistic regression on the latents of an autoencoder trained on uniform noise with the
metric as loss (Experiment 2); the two controls below."""

from __future__ import annotations

import dataclasses
from typing import Any

from percmusic_cli.config import (
    METRICS,
    PRESETS,
    ClassifyConfig,
    DistanceConfig,
    KnnConfig,
)
from percmusic_cli.devices import resolve_device
from percmusic_cli.errors import UsageError
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

LABELS = {"mse": "MSE", "msssim": "1 - MS-SSIM", "nlpd": "NLPD"}


def reproduce(
    store: Store,
    view: SplitView,
    preset: str = "default",
    device: str = "auto",
    reporter: Reporter | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    if preset not in PRESETS:
        raise UsageError(f"unknown preset {preset!r}: choose one of {', '.join(PRESETS)}")
    reporter = reporter or NullReporter()
    train_base, model_cfg = PRESETS[preset]
    knn_rows = run_knn(
        store, view, list(METRICS), KnnConfig(seed=seed), DistanceConfig(device=device), reporter
    )
    ccfg = ClassifyConfig(seed=seed, device=device)
    rows = []
    cfgs = [dataclasses.replace(train_base, loss=m, device=device, seed=seed) for m in METRICS]
    # One call for every loss: with a Dask scheduler each training is its own task.
    reporter.log("reproduce: autoencoders with the " + ", ".join(LABELS[m] for m in METRICS))
    models = train_models(store, cfgs, model_cfg, view, reporter)
    for metric, knn_row, model in zip(METRICS, knn_rows, models, strict=True):
        enc = load_encoder(store, model["model_id"], resolve_device(device))
        latent = classify_with(store, view, enc, ccfg, reporter)
        rows.append(
            {
                "metric": metric,
                "label": LABELS[metric],
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
