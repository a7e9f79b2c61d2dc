"""Training runs as Dask tasks: one task per autoencoder, each writing its checkpoints into
the store's `checkpoints/` folder (shared storage), so a killed run resumes as it does
locally. A task reads the feature images itself (memory-mapped) when it trains on
spectrograms, and never touches DuckDB: the client records the models. Workers that
advertise a GPU resource (`dask worker --resources GPU=1`, or `dask cuda worker`) take
the runs meant for CUDA."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from percmusic_cli.config import ModelConfig, TrainConfig
from percmusic_cli.experiments.train import TrainResult, train
from percmusic_cli.progress import NullReporter, Reporter
from percmusic_cli.steps import scheduler
from percmusic_cli.steps.tile_tasks import open_features


@dataclass(frozen=True)
class TrainTask:
    cfg: TrainConfig
    model_cfg: ModelConfig
    run_dir: str
    store_root: str
    feature_hash: str | None  # spectrogram training: the feature set, else None (noise)
    features_path: str | None  # and its array, relative to the store root
    rows: np.ndarray | None  # feature-array rows to train on


def run_train(task: TrainTask) -> TrainResult:
    images = None
    if task.features_path is not None and task.rows is not None:
        images = np.asarray(open_features(task.store_root, task.features_path)[task.rows])
    return train(task.cfg, task.model_cfg, Path(task.run_dir), NullReporter(), images)


def _wants_gpu(client: Any, cfg: TrainConfig) -> bool:
    if cfg.device == "cuda":
        return True
    if cfg.device != "auto":
        return False
    workers = client.scheduler_info().get("workers", {}).values()
    return any(w.get("resources", {}).get("GPU", 0) >= 1 for w in workers)


def train_on_dask(tasks: list[TrainTask], reporter: Reporter) -> list[TrainResult]:
    """Every task at once on the cluster; results in the tasks' order."""
    from distributed import as_completed

    client = scheduler.client()
    progress = reporter.task("training (dask)", total=len(tasks), unit="models")
    try:
        futures = []
        for i, t in enumerate(tasks):
            resources = {"GPU": 1} if _wants_gpu(client, t.cfg) else None
            key = f"train-{Path(t.run_dir).name}-{i}"
            futures.append(
                client.submit(run_train, t, key=key, retries=2, resources=resources, pure=False)
            )
        for fut in as_completed(futures):
            fut.result()
            progress.advance(1, info=fut.key)
        return [f.result() for f in futures]
    finally:
        progress.close()
