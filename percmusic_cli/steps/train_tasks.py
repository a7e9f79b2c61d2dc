"""Training runs as tasks on the session's executor: one task per autoencoder, each writing
its checkpoints into the store's `checkpoints/` folder (shared storage for a cluster), so a
killed run resumes wherever it ran. A task reads the feature images itself
(memory-mapped) when it trains on spectrograms, and never touches DuckDB: the client
records the models. A run meant for CUDA asks for a `GPU` resource, which Dask workers
advertise (`dask worker --resources GPU=1`, or `dask cuda worker`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from percmusic_cli.config import ModelConfig, TrainConfig
from percmusic_cli.execution import Session, run_tasks, task_reporter
from percmusic_cli.experiments.train import Diverged, TrainResult, train
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
    try:
        return train(task.cfg, task.model_cfg, Path(task.run_dir), task_reporter(), images)
    except Diverged as exc:
        raise Diverged(f"model {Path(task.run_dir).name}: {exc}") from None


def train_all(session: Session, tasks: list[TrainTask]) -> list[TrainResult]:
    """Every task on the session's executor; results in the tasks' order. Each run reports
    its own steps (with ETA) where it can: in this process."""
    gpu = {"GPU": 1.0} if any(t.cfg.device == "cuda" for t in tasks) else None
    return run_tasks(session, run_train, tasks, label=None, resources=gpu)
