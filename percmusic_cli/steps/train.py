"""`train`: an autoencoder per loss, on uniform noise (the study) or spectrogram patches.

A model's id hashes its training and model configuration (and, for spectrogram data, the
feature set), so the same command twice reuses the finished model and a killed run resumes
from its last checkpoint."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from percmusic_cli.config import ModelConfig, TrainConfig, check_dataset_name
from percmusic_cli.errors import UsageError
from percmusic_cli.execution import Session, as_session
from percmusic_cli.experiments.baseline import final_loss, learning
from percmusic_cli.experiments.train import (
    TrainResult,
    check_inputs,
    run_baseline,
)
from percmusic_cli.hashing import param_hash
from percmusic_cli.metrics import registry
from percmusic_cli.models import cache as model_cache
from percmusic_cli.progress import Reporter
from percmusic_cli.steps.features import features_path
from percmusic_cli.steps.train_tasks import TrainTask, train_all
from percmusic_cli.steps.views import SplitView
from percmusic_cli.store import Store
from percmusic_cli.store import models as sm

# Fields that change the weights; device and amp are recorded but not part of the id.
_RUNTIME_FIELDS = ("device", "amp", "checkpoint_every")


def _weight_fields(cfg: TrainConfig) -> dict[str, Any]:
    return {k: v for k, v in dataclasses.asdict(cfg).items() if k not in _RUNTIME_FIELDS}


def model_id(cfg: TrainConfig, model_cfg: ModelConfig, feature_hash: str | None) -> str:
    fields = _weight_fields(cfg)
    # A plugin loss adds its package and version; a built-in adds nothing (ids are pinned).
    plugin = registry.plugin_key(registry.get(cfg.loss))
    extra = (plugin,) if plugin else ()
    return f"ae-{cfg.loss}-{cfg.data}-{param_hash(fields, model_cfg, feature_hash, *extra)[:8]}"


def train_model(
    store: Session | Store,
    cfg: TrainConfig,
    model_cfg: ModelConfig,
    view: SplitView | None = None,
    reporter: Reporter | None = None,
) -> dict[str, Any]:
    return train_models(store, [cfg], model_cfg, view, reporter)[0]


def _check_all(
    store: Store, cfgs: list[TrainConfig], model_cfg: ModelConfig, view: SplitView | None
) -> None:
    """Every config, before any model row is written: no phantom "training" rows."""
    if any(c.data == "spectrograms" for c in cfgs) and view is None:
        raise UsageError("--data spectrograms needs an ingested, filtered dataset with features")
    images = None
    if view is not None and any(c.data == "spectrograms" for c in cfgs):
        images = view.images(store)[view.rows["train"]]
    for cfg in cfgs:
        registry.get(cfg.loss)  # a broken plugin loss fails here
        check_inputs(cfg, model_cfg, images if cfg.data == "spectrograms" else None)


def train_models(
    store: Session | Store,
    cfgs: list[TrainConfig],
    model_cfg: ModelConfig,
    view: SplitView | None = None,
    reporter: Reporter | None = None,
) -> list[dict[str, Any]]:
    """Train (or resume, or reuse) one autoencoder per config; models-table rows in order.
    Noise models come from the user-level model cache when it holds them. The runs still
    to do are independent tasks on the session's executor."""
    session = as_session(store, reporter)
    store, reporter = session.store, session.reporter
    _check_all(store, cfgs, model_cfg, view)
    out: dict[int, dict[str, Any]] = {}
    todo: list[tuple[int, str, TrainTask]] = []
    for i, cfg in enumerate(cfgs):
        feature_hash = view.feature_hash if cfg.data == "spectrograms" and view else None
        mid = model_id(cfg, model_cfg, feature_hash)
        found = find_model(store, mid)
        if found and found["status"] == "done":
            out[i] = {
                **found,
                "reused": True,
                **learning(found["final_loss"], found["baseline_loss"]),
            }
            continue
        if cfg.data == "noise":
            cached = _cached(mid, cfg, model_cfg, reporter)
            if cached is not None:
                out[i] = _from_cache(store, cached, mid, cfg, model_cfg, _rel_dir(mid), reporter)
                continue
        session.backend.ready()  # a bad scheduler fails before a "training" row is written
        # The task resolves "auto" where it runs; the row says what was asked until then.
        with store.connect() as con:
            sm.upsert_model(
                con,
                mid,
                cfg,
                model_cfg,
                _rel_dir(mid),
                0,
                "training",
                cfg.device,
                None,
                feature_hash,
            )
        todo.append((i, mid, _task(store, cfg, model_cfg, mid, view, feature_hash)))
    results = train_all(session, [t for _, _, t in todo])
    for (i, mid, t), result in zip(todo, results, strict=True):
        out[i] = _record(store, mid, t, result, model_cfg, reporter)
    return [out[i] for i in range(len(cfgs))]


def _rel_dir(mid: str) -> str:
    # The id holds the loss's name; registry names are plain, and this keeps it so.
    check_dataset_name(mid, "model id")
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
        str(store.root / _rel_dir(mid)),
        str(store.root),
        feature_hash if spectro else None,
        features_path(store, feature_hash) if spectro and feature_hash else None,
        view.rows["train"] if spectro and view is not None else None,
    )


def _record(
    store: Store,
    mid: str,
    t: TrainTask,
    result: TrainResult,
    model_cfg: ModelConfig,
    reporter: Reporter,
) -> dict[str, Any]:
    final = final_loss(result.loss_history)
    with store.connect() as con:
        sm.save_history(con, mid, result.loss_history)
        sm.save_learning(con, mid, final, result.baseline_loss)
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
            t.feature_hash,
        )
        row = sm.get_model(con, mid)
    assert row is not None
    if t.cfg.data == "noise" and result.checkpoint is not None:
        _publish(mid, result.checkpoint, t.cfg, model_cfg, result.baseline_loss, reporter)
    return {
        **row,
        "reused": False,
        "resumed_from": result.resumed_from,
        **learning(final, result.baseline_loss),
    }


def _cached(
    mid: str, cfg: TrainConfig, model_cfg: ModelConfig, reporter: Reporter
) -> model_cache.Entry | None:
    """The verified cache entry of `mid`, or None; a refused entry is one line, not an error
    (the model is trained here, and the entry rewritten)."""
    entry, problem = model_cache.find(mid, _weight_fields(cfg), dataclasses.asdict(model_cfg))
    if problem is not None:
        reporter.log(f"warning: model cache entry {mid} ignored: {problem}; training here")
    return entry


def _from_cache(
    store: Store,
    cached: model_cache.Entry,
    mid: str,
    cfg: TrainConfig,
    model_cfg: ModelConfig,
    rel_dir: str,
    reporter: Reporter,
) -> dict[str, Any]:
    """Copy a verified cached model into the store and record it as done, untrained here,
    with its final loss and trivial baseline (an entry from before baselines were cached
    has its baseline measured again: the same seeded batches give the same value)."""
    copy = model_cache.restore(cached.folder, store.root / rel_dir)
    meta = json.loads((copy / "meta.json").read_text())
    history = [(int(s), float(v)) for s, v in meta.get("loss_history", [])]
    baseline = cached.baseline_loss if cached.baseline_loss is not None else run_baseline(cfg)
    final = final_loss(history)
    with store.connect() as con:
        sm.save_history(con, mid, history)
        sm.upsert_model(
            con,
            mid,
            cfg,
            model_cfg,
            rel_dir,
            int(meta.get("step", cfg.steps)),
            "done",
            str(meta.get("device", "")) or None,
            meta.get("wall_s_total"),
            None,
        )
        sm.save_learning(con, mid, final, baseline)
        row = sm.get_model(con, mid)
    assert row is not None
    where = cached.folder.parent
    reporter.log(f"{mid}: reused from the model cache ({where}); not retrained")
    return {**row, "reused": True, "from_cache": str(where), **learning(final, baseline)}


def _publish(
    mid: str,
    checkpoint: Path,
    cfg: TrainConfig,
    model_cfg: ModelConfig,
    baseline: float | None,
    reporter: Reporter,
) -> None:
    """Offer a finished noise model to other stores; a cache that cannot be written (full
    disk, read-only home) costs only the reuse, never the training."""
    try:
        entry = model_cache.publish(
            mid, checkpoint, _weight_fields(cfg), dataclasses.asdict(model_cfg), baseline
        )
    except OSError as exc:
        reporter.log(f"warning: {mid} not kept in the model cache: {exc}")
        return
    reporter.log(f"{mid}: kept in the model cache ({entry}) for other stores")


def find_model(store: Store, ref: str) -> dict[str, Any] | None:
    if not store.exists():
        return None
    with store.connect(read_only=True) as con:
        return sm.get_model(con, ref)


def check_losses(cfgs: list[TrainConfig]) -> None:
    """Each loss name checked before the store is opened: a typo or a broken plugin is
    its own usage error, never hidden behind the store's state ("no store at PATH")."""
    for cfg in cfgs:
        registry.get(cfg.loss)
