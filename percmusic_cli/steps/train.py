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
from percmusic_cli.experiments.baseline import final_loss, learning
from percmusic_cli.experiments.train import Diverged, check_inputs, train
from percmusic_cli.hashing import param_hash
from percmusic_cli.metrics import registry
from percmusic_cli.progress import NullReporter, Reporter
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
    reporter = reporter or NullReporter()
    registry.get(cfg.loss)  # a broken plugin loss fails here, before any row is written
    if cfg.data == "spectrograms" and view is None:
        raise UsageError("--data spectrograms needs an ingested, filtered dataset with features")
    feature_hash = view.feature_hash if cfg.data == "spectrograms" and view else None
    mid = model_id(cfg, model_cfg, feature_hash)
    run_dir = store.checkpoints_dir / mid
    found = find_model(store, mid)
    if found and found["status"] == "done":
        return {**found, "reused": True, **learning(found["final_loss"], found["baseline_loss"])}
    images = None
    if cfg.data == "spectrograms" and view is not None:
        images = view.images(store)[view.rows["train"]]
    # Everything is checked before the model row exists: no phantom "training" rows.
    check_inputs(cfg, model_cfg, images)
    device = resolve_device(cfg.device)
    rel_dir = str(Path("checkpoints") / mid)
    with store.connect() as con:
        sm.upsert_model(
            con, mid, cfg, model_cfg, rel_dir, 0, "training", device, None, feature_hash
        )
    try:
        result = train(cfg, model_cfg, run_dir, reporter, spectrograms=images)
    except Diverged as exc:
        raise Diverged(f"model {mid}: {exc}") from None
    final = final_loss(result.loss_history)
    with store.connect() as con:
        sm.save_history(con, mid, result.loss_history)
        sm.save_learning(con, mid, final, result.baseline_loss)
        sm.upsert_model(
            con,
            mid,
            cfg,
            model_cfg,
            rel_dir,
            result.steps,
            "done",
            device,
            round(result.wall_s, 3),
            feature_hash,
        )
        row = sm.get_model(con, mid)
    assert row is not None
    return {
        **row,
        "reused": False,
        "resumed_from": result.resumed_from,
        **learning(final, result.baseline_loss),
    }


def find_model(store: Store, ref: str) -> dict[str, Any] | None:
    if not store.exists():
        return None
    with store.connect(read_only=True) as con:
        return sm.get_model(con, ref)
