"""Training speed per loss and encoding speed, printed as Markdown.

    .venv/bin/python benchmarks/train.py                      # the default preset, CPU
    .venv/bin/python benchmarks/train.py --hidden 32 --batch 4 --patch 128 --steps 5

Times the real training step (fresh uniform-noise batch, forward, loss, backward, Adam) after
warm-up steps, and the encoding of random 128 x 1290 images (the GTZAN spectrogram size) with
`encode_pooled`. Projects the wall time of a whole run from the measured steps/s.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numpy as np
import torch

from percmusic_cli.config import ModelConfig, TrainConfig
from percmusic_cli.devices import resolve_device
from percmusic_cli.experiments.encode import encode_pooled
from percmusic_cli.metrics import registry
from percmusic_cli.models.autoencoder import build_autoencoder
from percmusic_cli.models.losses import loss_function


def _args() -> argparse.Namespace:
    d, m = TrainConfig(), ModelConfig()
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--losses", nargs="+", default=list(registry.study_names()), choices=registry.names()
    )
    p.add_argument("--steps", type=int, default=5, help="timed steps per loss")
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--batch", type=int, default=d.batch_size)
    p.add_argument("--patch", type=int, default=d.patch)
    p.add_argument("--hidden", type=int, default=m.hidden_channels)
    p.add_argument("--latent", type=int, default=m.latent_channels)
    p.add_argument("--stages", type=int, default=m.stages)
    p.add_argument("--run-steps", type=int, default=d.steps, help="steps of a whole run")
    p.add_argument("--songs", type=int, default=16, help="random 128x1290 images to encode")
    p.add_argument("--encode-batch", type=int, default=16)
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int, default=None)
    return p.parse_args()


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def time_steps(
    loss: str, mcfg: ModelConfig, a: argparse.Namespace, device: str
) -> tuple[list[float], list[float]]:
    """Wall and process-CPU seconds of each timed step."""
    torch.manual_seed(0)
    model = build_autoencoder(mcfg).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = loss_function(loss)
    gen = torch.Generator().manual_seed(0)
    times: list[float] = []
    cpu: list[float] = []
    for i in range(a.warmup + a.steps):
        t0, c0 = time.perf_counter(), time.process_time()
        x = torch.rand((a.batch, 1, a.patch, a.patch), generator=gen).to(device)
        value = loss_fn(model(x).float(), x)
        opt.zero_grad(set_to_none=True)
        value.backward()
        opt.step()
        _sync(device)
        if i >= a.warmup:
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
    return times, cpu


def time_encode(mcfg: ModelConfig, a: argparse.Namespace, device: str) -> float:
    """Seconds per 100 songs of 128 x 1290."""
    model = build_autoencoder(mcfg)
    images = np.random.default_rng(0).random((a.songs, 128, 1290), dtype=np.float32)
    encode_pooled(model, images[:2], device=device, batch_size=a.encode_batch)  # warm-up
    _sync(device)
    t0 = time.perf_counter()
    encode_pooled(model, images, device=device, batch_size=a.encode_batch)
    _sync(device)
    return (time.perf_counter() - t0) / a.songs * 100


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> None:
    a = _args()
    if a.threads:
        torch.set_num_threads(a.threads)
    device = resolve_device(a.device)
    mcfg = ModelConfig(hidden_channels=a.hidden, latent_channels=a.latent, stages=a.stages)
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none (absent)"
    print(f"device {device}; GPU: {gpu}; CPU: {_cpu_model()}, nproc {os.cpu_count()}, ")
    print(f"torch threads {torch.get_num_threads()}, torch {torch.__version__}\n")
    print(
        f"preset: batch {a.batch}, patch {a.patch}, hidden {a.hidden}, latent {a.latent}, "
        f"stages {a.stages}; {a.steps} timed steps after {a.warmup} warm-up\n"
    )
    # On a shared CPU the median is inflated by other processes; the fastest step is the
    # better estimate of an idle machine, and CPU seconds per step show the work itself.
    print(
        f"| loss | wall s/step median | fastest | steps/s (fastest) | CPU s/step "
        f"| {a.run_steps} steps at median | at fastest |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for loss in a.losses:
        wall, cpu = time_steps(loss, mcfg, a, device)
        med, best = statistics.median(wall), min(wall)
        print(
            f"| {loss} | {med:.3f} | {best:.3f} | {1 / best:.2f} | {statistics.median(cpu):.3f} "
            f"| {med * a.run_steps / 60:.1f} min | {best * a.run_steps / 60:.1f} min |"
        )
    per100 = time_encode(mcfg, a, device)
    print(f"\nencode + meanstd pool, 128 x 1290: {per100:.1f} s per 100 songs ({a.songs} timed)")


if __name__ == "__main__":
    main()
