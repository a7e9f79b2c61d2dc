"""`train`: an autoencoder per loss, on uniform noise (the study) or spectrogram patches.

A model's id hashes its training and model configuration (and, for spectrogram data, the
feature set), so the same command twice reuses the finished model and a killed run resumes
from its last checkpoint."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from percmusic_cli.config import ModelConfig, TrainConfig
from percmusic_cli.devices import resolve_device
from percmusic_cli.errors import UsageError
from percmusic_cli.experiments.train import TrainResult, train
from percmusic_cli.hashing import param_hash
from percmusic_cli.progress import NullReporter, Reporter
from percmusic_cli.steps import scheduler
from percmusic_cli.steps.features import features_path, load_features
from percmusic_cli.steps.train_tasks import TrainTask, train_on_dask
from percmusic_cli.steps.views import SplitView
from percmusic_cli.store import Store
from percmusic_cli.store import models as sm

# Fields that change the weights; device and amp are recorded but not part of the id.
_RUNTIME_FIELDS = ("device", "amp", "checkpoint_every")


def model_id(cfg: TrainConfig, model_cfg: ModelConfig, feature_hash: str | None) -> str:
    fields = {k: v for k, v in dataclasses.asdict(cfg).items() if k not in _RUNTIME_FIELDS}
    return f"ae-{cfg.loss}-{cfg.data}-{param_hash(fields, model_cfg, feature_hash)[:8]}"


def train_model(
    store: Store,
    cfg: TrainConfig,
    model_cfg: ModelConfig,
    view: SplitView | None = None,
    reporter: Reporter | None = None,
) -> dict[str, Any]:
    return train_models(store, [cfg], model_cfg, view, reporter)[0]


def train_models(
    store: Store,
    cfgs: list[TrainConfig],
    model_cfg: ModelConfig,
    view: SplitView | None = None,
    reporter: Reporter | None = None,
) -> list[dict[str, Any]]:
    """Train (or resume, or reuse) one autoencoder per config; models-table rows in order.
    With a Dask scheduler the runs still to do go to the cluster as independent tasks."""
    reporter = reporter or NullReporter()
    if any(c.data == "spectrograms" for c in cfgs) and view is None:
        raise UsageError("--data spectrograms needs an ingested, filtered dataset with features")
    out: dict[int, dict[str, Any]] = {}
    todo: list[tuple[int, str, TrainTask]] = []
    on_dask = scheduler.current().is_dask
    for i, cfg in enumerate(cfgs):
        feature_hash = view.feature_hash if cfg.data == "spectrograms" and view else None
        mid = model_id(cfg, model_cfg, feature_hash)
        found = find_model(store, mid)
        if found and found["status"] == "done":
            out[i] = {**found, "reused": True}
            continue
        # On a cluster the worker picks the device; record what was asked until it reports.
        device = cfg.device if on_dask else resolve_device(cfg.device)
        with store.connect() as con:
            sm.upsert_model(
                con, mid, cfg, model_cfg, _rel_dir(mid), 0, "training", device, None, feature_hash
            )
        todo.append((i, mid, _task(store, cfg, model_cfg, mid, view, feature_hash)))
    if on_dask and todo:
        results = train_on_dask([t for _, _, t in todo], reporter)
    else:
        results = [_train_here(store, t, reporter) for _, _, t in todo]
    for (i, mid, t), result in zip(todo, results, strict=True):
        out[i] = _record(store, mid, t, result, model_cfg)
    return [out[i] for i in range(len(cfgs))]


def _rel_dir(mid: str) -> str:
    return str(Path("checkpoints") / mid)


def _task(
    store: Store,
    cfg: TrainConfig,
    model_cfg: ModelConfig,
    mid: str,
    view: SplitView | None,
    feature_hash: str | None,
) -> TrainTask:
    spectro = cfg.data == "spectrograms" and view is not None and feature_hash is not None
    return TrainTask(
        cfg,
        model_cfg,
        str(store.checkpoints_dir / mid),
        str(store.root),
        feature_hash if spectro else None,
        features_path(store, feature_hash) if spectro and feature_hash else None,
        view.rows["train"] if spectro and view is not None else None,
    )


def _train_here(store: Store, t: TrainTask, reporter: Reporter) -> TrainResult:
    images = None
    if t.feature_hash is not None and t.rows is not None:
        images = load_features(store, t.feature_hash)[1][t.rows]
    return train(t.cfg, t.model_cfg, Path(t.run_dir), reporter, spectrograms=images)


def _record(
    store: Store, mid: str, t: TrainTask, result: TrainResult, model_cfg: ModelConfig
) -> dict[str, Any]:
    feature_hash = t.feature_hash
    with store.connect() as con:
        sm.save_history(con, mid, result.loss_history)
        sm.upsert_model(
            con,
            mid,
            t.cfg,
            model_cfg,
            _rel_dir(mid),
            result.steps,
            "done",
            result.device,
            round(result.wall_s, 3),
            feature_hash,
        )
        row = sm.get_model(con, mid)
    assert row is not None
    return {
        **row,
        "reused": False,
        "resumed_from": result.resumed_from,
        "final_loss": result.loss_history[-1][1] if result.loss_history else None,
    }


def find_model(store: Store, ref: str) -> dict[str, Any] | None:
    if not store.exists():
        return None
    with store.connect(read_only=True) as con:
        return sm.get_model(con, ref)
