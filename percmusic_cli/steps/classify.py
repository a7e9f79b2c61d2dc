"""`classify`: Experiment 2, latent features of an autoencoder to logistic regression,
and the two controls a reviewer asks for (raw pooled spectrograms; an untrained
autoencoder of the same shape). Latents are cached per model, feature set and pooling."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import numpy as np

from percmusic_cli.classifiers.latent import SPEC as LATENT_SPEC
from percmusic_cli.config import ClassifyConfig, ModelConfig
from percmusic_cli.devices import resolve_device
from percmusic_cli.errors import DataError
from percmusic_cli.experiments.encode import default_batch, encode_pooled, pool_images
from percmusic_cli.experiments.logreg import logreg_experiment
from percmusic_cli.hashing import param_hash, plain
from percmusic_cli.models.autoencoder import Autoencoder, build_autoencoder
from percmusic_cli.models.checkpoint import load_checkpoint
from percmusic_cli.progress import NullReporter, Reporter
from percmusic_cli.seeding import seed_everything
from percmusic_cli.steps import runs
from percmusic_cli.steps.train import find_model
from percmusic_cli.steps.views import PARTS, SplitView
from percmusic_cli.store import Store
from percmusic_cli.store import arrays as a
from percmusic_cli.store import models as sm

LATENT = LATENT_SPEC.name  # the run kind, and the first part of each run's key: "latent"

CONTROLS = ("raw", "untrained")


@dataclasses.dataclass
class Encoder:
    """What turns images into vectors: a trained model, an untrained one, or none."""

    name: str  # run name: the loss, or a control name
    key: str  # cache key part: model id + step, or the control and its seed/config
    model: Autoencoder | None
    meta: dict[str, Any]


def load_encoder(store: Store, ref: str, device: str) -> Encoder:
    """A model id (or unique prefix) from the store, or a checkpoint folder path."""
    row = find_model(store, ref)
    folder = store.root / row["checkpoint_dir"] if row else Path(ref)
    if not folder.exists():
        raise DataError(f"no model {ref!r} in the store and no checkpoint folder at {ref}")
    ckpt = load_checkpoint(folder, device=device)
    loss = str(ckpt.meta.get("train_config", {}).get("loss", "model"))
    model_key = row["model_id"] if row else str(folder.resolve())
    return Encoder(
        loss,
        f"{model_key}@{ckpt.step}",
        ckpt.model,
        {"model_id": model_key, "step": ckpt.step, "path": str(ckpt.path)},
    )


def raw_encoder() -> Encoder:
    """The control without any autoencoder: the spectrogram itself, pooled the same way."""
    return Encoder("raw", "raw", None, {"control": "pooled raw spectrogram"})


def untrained_encoder(model_cfg: ModelConfig, seed: int) -> Encoder:
    seed_everything(seed)
    return Encoder(
        "untrained",
        f"untrained:{param_hash(model_cfg)}:{seed}",
        build_autoencoder(model_cfg),
        {"model_config": plain(model_cfg), "seed": seed},
    )


def _latents(
    store: Store,
    view: SplitView,
    enc: Encoder,
    cfg: ClassifyConfig,
    device: str,
    reporter: Reporter,
) -> np.ndarray:
    key = param_hash(enc.key, view.feature_hash, cfg.pool)
    with store.connect(read_only=True) as con:
        rec = sm.find_latents(con, key)
    if rec is not None:
        return a.read_array(store.root, rec)
    images = view.images(store)
    if enc.model is None:
        latents = pool_images(images, cfg.pool)
    else:
        latents = encode_pooled(enc.model, images, cfg.pool, device, cfg.batch_size, reporter)
    _check_finite(latents, view, enc)
    sm.save_latents(store, key, enc.key, view.feature_hash, cfg.pool, latents)
    return latents


def _check_finite(latents: np.ndarray, view: SplitView, enc: Encoder) -> None:
    bad = ~np.isfinite(latents.reshape(len(latents), -1)).all(axis=1)
    if not bad.any():
        return
    ids = [view.track_ids[i] for i in np.flatnonzero(bad)[:3]]
    more = f" and {int(bad.sum()) - len(ids)} more" if bad.sum() > len(ids) else ""
    who = enc.meta.get("model_id", enc.name)
    raise DataError(
        f"model {who} gives NaN or infinite latents for tracks {', '.join(ids)}{more}: "
        "its weights are probably not finite; retrain it with a lower --lr"
    )


def classify_with(
    store: Store,
    view: SplitView,
    enc: Encoder,
    cfg: ClassifyConfig,
    reporter: Reporter | None = None,
    force: bool = False,
) -> dict[str, Any]:
    reporter = reporter or NullReporter()
    device = resolve_device(cfg.device)
    # The run records the batch it encodes in; the batch changes no latent (not in the key).
    cfg = dataclasses.replace(cfg, batch_size=cfg.batch_size or default_batch(device))
    config = {"classify": plain(cfg), "encoder": enc.meta}
    key = param_hash(
        LATENT,
        enc.key,
        {k: v for k, v in config["classify"].items() if k not in ("device", "batch_size")},
        view.feature_hash,
        {p: view.ids(p) for p in PARTS},
    )
    found = None if force else runs.existing_run(store, key)
    if found is not None:
        return runs.summary_row(found["run_id"], LATENT, enc.name, found["result"], True)
    started = time.monotonic()
    latents = _latents(store, view, enc, cfg, device, reporter)
    features = {p: latents[view.rows[p]] for p in PARTS if len(view.rows[p])}
    result = logreg_experiment(features, runs.part_labels(view), cfg, class_order=view.classes)
    run_id = runs.record(
        store,
        view,
        LATENT,
        enc.name,
        key,
        config,
        cfg.seed,
        device,
        time.monotonic() - started,
        result,
        ["train"],
    )
    reporter.log(
        f"latent {enc.name}: C={result.curve.chosen:g} "
        f"test weighted F1 {result.evaluation.f1_weighted:.3f}"
    )
    return runs.summary_row(run_id, LATENT, enc.name, result.to_dict(), False)


def run_classify(
    store: Store,
    view: SplitView,
    model_ref: str | None,
    cfg: ClassifyConfig,
    controls: bool,
    reporter: Reporter | None = None,
    force: bool = False,
) -> list[dict[str, Any]]:
    device = resolve_device(cfg.device)
    rows = []
    model_cfg = ModelConfig()
    if model_ref is not None:
        enc = load_encoder(store, model_ref, device)
        rows.append(classify_with(store, view, enc, cfg, reporter, force))
        assert enc.model is not None
        model_cfg = enc.model.cfg
    if controls:
        rows.append(classify_with(store, view, raw_encoder(), cfg, reporter, force))
        rows.append(
            classify_with(store, view, untrained_encoder(model_cfg, cfg.seed), cfg, reporter, force)
        )
    return rows


def check_options(model: str | None, controls: bool) -> None:
    from percmusic_cli.errors import UsageError

    if model is None and not controls:
        raise UsageError("give --model, or ask for the controls")
