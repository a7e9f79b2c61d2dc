"""Training an autoencoder under one perceptual loss, on uniform noise or spectrogram patches.

Data: with `data="noise"` each step draws a fresh batch of i.i.d. uniform noise patches
(B, 1, patch, patch); with `data="spectrograms"` it draws B random patch x patch crops of the
given (N, H, W) images. Either way the draws come from one CPU `torch.Generator` seeded by
`cfg.seed` (then moved to the device), so CPU and GPU runs see the same data, and the
generator's state is checkpointed for an exact resume.

Resume: if `run_dir` holds a checkpoint, training continues from it (model, optimizer and
generator states restored). On the CPU a run killed and resumed ends bit-identical to an
uninterrupted one.

Precision: on CUDA with `cfg.amp`, the model's forward runs under bf16 autocast (when the GPU
supports bf16; otherwise float32); the loss is always computed in float32.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from percmusic_cli.config import DistanceConfig, ModelConfig, TrainConfig, check_training_size
from percmusic_cli.devices import resolve_device
from percmusic_cli.errors import DataError, UsageError
from percmusic_cli.experiments.baseline import trivial_baseline
from percmusic_cli.metrics import _contract, registry
from percmusic_cli.models.autoencoder import Autoencoder, build_autoencoder
from percmusic_cli.models.checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint
from percmusic_cli.models.losses import LossFn, loss_function
from percmusic_cli.progress import NullReporter, Reporter
from percmusic_cli.seeding import seed_everything, torch_generator

# Fields that must match for a checkpoint to be resumed under a config (steps may grow).
_RESUME_KEYS = ("loss", "data", "batch_size", "patch", "lr", "seed")
_GENERATOR_KEY = "data_generator"


@dataclass
class TrainResult:
    steps: int
    loss_history: list[tuple[int, float]]
    checkpoint: Path | None  # None only when stopped (stop_after) before the first checkpoint
    wall_s: float
    resumed_from: int | None
    device: str
    # Loss of the best constant output on this run's first batches (experiments/baseline.py).
    baseline_loss: float | None = None


@dataclass
class _State:
    model: Autoencoder
    optimizer: torch.optim.Optimizer
    generator: torch.Generator
    step: int
    history: list[tuple[int, float]]
    resumed_from: int | None
    wall_before: float  # seconds spent by earlier invocations of this run


# ---------------------------------------------------------------- checks and data


def check_inputs(cfg: TrainConfig, model_cfg: ModelConfig, images: np.ndarray | None) -> None:
    """What the configs cannot check alone (they check their own fields on construction):
    the loss's spec, the patch against the model's depth and the images. Callers that write
    a model row call this first."""
    spec = registry.get(cfg.loss)  # a broken plugin fails here, before any training
    check_training_size(cfg, model_cfg)
    if cfg.patch < 2**model_cfg.stages:
        raise UsageError(f"patch {cfg.patch} is smaller than 2^stages = {2**model_cfg.stages}")
    need = registry.min_side(spec, registry.settings(spec, DistanceConfig(metric=cfg.loss)))
    if cfg.patch < need:
        raise UsageError(f"patch {cfg.patch} is too small for the {cfg.loss} loss: needs {need}")
    if spec.is_plugin:
        probe_loss(cfg)
    if cfg.data == "spectrograms":
        if images is None or images.ndim != 3 or len(images) == 0:
            raise UsageError("data 'spectrograms' needs a non-empty (N, H, W) array of images")
        if min(images.shape[1:]) < cfg.patch:
            raise UsageError(f"patch {cfg.patch} exceeds the image size {images.shape[1:]}")


def probe_loss(cfg: TrainConfig) -> None:
    """The loss on two random patch pairs, with its backward pass: a metric that returns the
    wrong shape, no gradient, a non-finite value or raises is named here, before a model
    row is written or a step is taken."""
    gen = torch.Generator().manual_seed(0)
    x = torch.rand((2, 1, cfg.patch, cfg.patch), generator=gen)
    x_hat = torch.rand((2, 1, cfg.patch, cfg.patch), generator=gen).requires_grad_(True)
    spec = registry.get(cfg.loss)
    value = loss_function(cfg.loss)(x_hat, x)
    if not math.isfinite(float(value.detach())):
        raise UsageError(
            f"metric {cfg.loss!r} gives a non-finite loss ({float(value.detach())}) on random "
            "images before any training: the metric is at fault, not the learning rate"
        )
    _contract.guarded(spec, "in its backward pass", value.backward)
    if x_hat.grad is None or not bool(torch.isfinite(x_hat.grad).all()):
        raise UsageError(f"metric {cfg.loss!r} gives a NaN or missing gradient on random images")


def _draw(cfg: TrainConfig, gen: torch.Generator, images: Tensor | None) -> Tensor:
    """One training batch (B, 1, patch, patch) on the CPU."""
    b, p = cfg.batch_size, cfg.patch
    if images is None:
        return torch.rand((b, 1, p, p), generator=gen)
    n, h, w = images.shape
    idx = torch.randint(n, (b,), generator=gen).tolist()
    ys = torch.randint(h - p + 1, (b,), generator=gen).tolist()
    xs = torch.randint(w - p + 1, (b,), generator=gen).tolist()
    crops = [images[i, y : y + p, x : x + p] for i, y, x in zip(idx, ys, xs, strict=True)]
    return torch.stack(crops).unsqueeze(1)


# ---------------------------------------------------------------- start or resume


def _fresh(cfg: TrainConfig, model_cfg: ModelConfig, device: str) -> _State:
    seed_everything(cfg.seed)  # the model's initial weights come from the global generator
    model = build_autoencoder(model_cfg).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    return _State(model, optimizer, torch_generator(cfg.seed), 0, [], None, 0.0)


def _check_same_run(meta: dict[str, Any], cfg: TrainConfig, model_cfg: ModelConfig) -> None:
    saved = meta.get("train_config", {})
    differ = [k for k in _RESUME_KEYS if saved.get(k) != dataclasses.asdict(cfg)[k]]
    if meta.get("model_config") != dataclasses.asdict(model_cfg):
        differ.append("model config")
    if differ:
        raise UsageError(
            f"the run folder holds a checkpoint of a different run ({', '.join(differ)} differ): "
            "use another folder"
        )


def _resume(cfg: TrainConfig, model_cfg: ModelConfig, run_dir: Path, device: str) -> _State:
    ckpt = load_checkpoint(run_dir, device=device)
    _check_same_run(ckpt.meta, cfg, model_cfg)
    model = ckpt.model
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    if ckpt.optimizer_state is not None:
        optimizer.load_state_dict(ckpt.optimizer_state)
    gen = torch_generator(cfg.seed)
    gen.set_state(ckpt.extra[_GENERATOR_KEY])
    step = ckpt.step
    history = [(int(s), float(v)) for s, v in ckpt.meta.get("loss_history", []) if s <= step]
    wall = float(ckpt.meta.get("wall_s_total", 0.0))
    return _State(model, optimizer, gen, step, history, step, wall)


def _start(cfg: TrainConfig, model_cfg: ModelConfig, run_dir: Path, device: str) -> _State:
    if run_dir.is_dir() and latest_checkpoint(run_dir) is not None:
        return _resume(cfg, model_cfg, run_dir, device)
    return _fresh(cfg, model_cfg, device)


# ---------------------------------------------------------------- the loop


@contextmanager
def _deterministic(device: str) -> Iterator[None]:
    """Deterministic kernels on the CPU (cheap there); CUDA keeps its fast kernels."""
    if device != "cpu":
        yield
        return
    before = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(before, warn_only=warn_only)


def _amp_dtype(cfg: TrainConfig, device: str) -> torch.dtype | None:
    if device != "cuda" or not cfg.amp or not torch.cuda.is_bf16_supported():
        return None
    return torch.bfloat16


class Diverged(DataError):
    """The loss, a gradient or a weight stopped being finite: training cannot go on."""


def _all_finite(tensors: list[Tensor]) -> bool:
    # One reduction per tensor, one sync: a sum is NaN or inf iff some element is.
    if not tensors:
        return True
    return bool(torch.isfinite(torch.stack([t.detach().float().sum() for t in tensors])).all())


def _step(state: _State, loss_fn: LossFn, x: Tensor, amp: torch.dtype | None) -> float:
    """One optimiser step. Raises Diverged, before the optimiser touches the weights, when
    the loss or a gradient is not finite, and after it when a weight is not."""
    with torch.autocast(x.device.type, dtype=amp or torch.float32, enabled=amp is not None):
        x_hat = state.model(x)
    loss = loss_fn(x_hat.float(), x)
    value = float(loss.detach())
    if not math.isfinite(value):
        raise Diverged(f"loss {value}")
    state.optimizer.zero_grad(set_to_none=True)
    loss.backward()
    params = [p for p in state.model.parameters() if p.grad is not None]
    if not _all_finite([p.grad for p in params if p.grad is not None]):
        raise Diverged("a gradient is NaN or infinite")
    state.optimizer.step()
    if not _all_finite(list(state.model.parameters())):
        raise Diverged("the weights became NaN or infinite")
    return value


def _save(state: _State, cfg: TrainConfig, run_dir: Path, device: str, wall: float) -> Path:
    meta = {
        "train_config": cfg,
        "step": state.step,
        "seed": cfg.seed,
        "loss_history": state.history,
        "device": device,
        "wall_s_total": state.wall_before + wall,
    }
    extra = {_GENERATOR_KEY: state.generator.get_state()}
    return save_checkpoint(run_dir, state.model, state.optimizer, meta, extra=extra)


def run_baseline(cfg: TrainConfig, images: Tensor | None = None) -> float:
    """The run's trivial baseline: what a constant output scores on the same seeded first
    batches the run trains on (experiments/baseline.py)."""
    gen = torch_generator(cfg.seed)
    return trivial_baseline(
        cfg.loss, cfg.data, loss_function(cfg.loss), lambda: _draw(cfg, gen, images)
    )


def train(
    cfg: TrainConfig,
    model_cfg: ModelConfig,
    run_dir: Path,
    reporter: Reporter | None = None,
    spectrograms: np.ndarray | None = None,
    stop_after: int | None = None,
) -> TrainResult:
    """Train (or resume training) into `run_dir`; see the module docstring.

    `stop_after` stops the loop, as if the process were killed, once that many steps have run
    in total, without writing a checkpoint beyond the periodic ones: the next call resumes from
    the last periodic checkpoint. Used to test resumption.
    """
    check_inputs(cfg, model_cfg, spectrograms if cfg.data == "spectrograms" else None)
    device = resolve_device(cfg.device)
    reporter = reporter or NullReporter()
    images = None
    if cfg.data == "spectrograms" and spectrograms is not None:
        images = torch.from_numpy(np.ascontiguousarray(spectrograms, dtype=np.float32))
    begin = time.perf_counter()
    baseline = run_baseline(cfg, images)
    with _deterministic(device):
        state = _start(cfg, model_cfg, run_dir, device)
        ckpt = _loop(cfg, state, run_dir, device, reporter, images, stop_after, begin)
    return TrainResult(
        steps=state.step,
        loss_history=state.history,
        checkpoint=ckpt,
        wall_s=time.perf_counter() - begin,
        resumed_from=state.resumed_from,
        device=device,
        baseline_loss=baseline,
    )


def _loop(
    cfg: TrainConfig,
    state: _State,
    run_dir: Path,
    device: str,
    reporter: Reporter,
    images: Tensor | None,
    stop_after: int | None,
    begin: float,
) -> Path | None:
    loss_fn = loss_function(cfg.loss)
    amp = _amp_dtype(cfg, device)
    last = min(cfg.steps, stop_after) if stop_after is not None else cfg.steps
    ckpt = latest_checkpoint(run_dir) if state.resumed_from is not None else None
    if state.resumed_from is not None:
        reporter.log(f"resuming {cfg.loss} training from step {state.step}")
        # The checkpoint resumed from is kept: an interrupt before the next one says so.
        reporter.kept(f"{cfg.loss} checkpoint at step {state.step} of {cfg.steps} kept")
    task = reporter.task(f"train {cfg.loss}", total=cfg.steps, unit="steps")
    task.advance(state.step)
    state.model.train()
    try:
        while state.step < last:
            x = _draw(cfg, state.generator, images).to(device)
            try:
                value = _step(state, loss_fn, x, amp)
            except Diverged as exc:
                # Nothing of this step is saved: the last checkpoint holds finite weights.
                if state.step == 0 and str(exc).startswith("loss"):
                    raise Diverged(  # untouched initial weights: the metric, not --lr
                        f"{cfg.loss} training diverged at step 1: {exc} before any weight "
                        f"changed, so metric {cfg.loss!r} is at fault, not --lr"
                    ) from None
                raise Diverged(
                    f"{cfg.loss} training diverged at step {state.step + 1} (lr {cfg.lr:g}): "
                    f"{exc}; lower --lr"
                ) from None
            state.step += 1
            state.history.append((state.step, value))
            task.advance(1, info=f"loss {value:.4f}")
            if state.step % cfg.checkpoint_every == 0 or state.step == cfg.steps:
                ckpt = _save(state, cfg, run_dir, device, time.perf_counter() - begin)
                reporter.kept(f"{cfg.loss} checkpoint at step {state.step} of {cfg.steps} kept")
    finally:
        task.close()
    return ckpt
