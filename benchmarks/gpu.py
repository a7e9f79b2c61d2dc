"""One-command GPU benchmark: the three distance matrices at N = 930 and one default-preset
training per loss on CUDA, each checked against the CPU.

    .venv/bin/python benchmarks/gpu.py                       # needs a CUDA device
    .venv/bin/python benchmarks/gpu.py --device cpu --n 64 --steps 5   # the machinery, on CPU

Matrices: 128 x 1290 synthetic images, all x all, on the CPU engine and on --device; they
must agree to 1e-6 relative (max |difference| / max |CPU value|). Training: the preset's run
(its step count, or --steps) timed on --device; the first --check-steps (50) losses of a
full-precision run (amp off) on each device must agree to 1e-4 relative. The CPU time of
the whole training run is projected from its first --check-steps steps (marked "est.").
Prints one table: stage, CPU s, device s, ratio, check. Without a CUDA device it says
"no CUDA device" and exits 0; a failed check exits 1."""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import percmusic_cli  # noqa: F401  (first: its thread policy must precede torch's OpenMP)

MATRIX_RTOL = 1e-6
LOSS_RTOL = 1e-4

if TYPE_CHECKING:
    import numpy as np


def _images(n: int, seed: int = 1) -> np.ndarray:
    import numpy as np

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from pairwise import synthetic  # the same smooth images as benchmarks/pairwise.py

    return np.ascontiguousarray(synthetic(n, seed=seed))


def _sync(device: str) -> None:
    import torch

    if device == "cuda":
        torch.cuda.synchronize()


def matrix(metric: str, images: np.ndarray, device: str) -> tuple[np.ndarray, float]:
    from percmusic_cli.config import DistanceConfig
    from percmusic_cli.metrics.pairwise import MemoryTileSink, PairwiseEngine, compute_matrix

    engine = PairwiseEngine(DistanceConfig(metric=metric, device=device), device=device)
    warm = engine.prepare(images[:2])  # compile or load kernels, start the CUDA context
    engine.tile(warm, warm, slice(0, 1), slice(1, 2))
    _sync(device)
    start = time.perf_counter()
    out = compute_matrix(engine, images, None, DistanceConfig().tile, MemoryTileSink())
    _sync(device)
    return out, time.perf_counter() - start


def training(
    loss: str, device: str, steps: int, amp: bool, preset: str
) -> tuple[list[float], float]:
    from percmusic_cli.config import preset as merge_preset
    from percmusic_cli.experiments.train import train

    cfg, model_cfg = merge_preset(preset, device=device)
    cfg = dataclasses.replace(cfg, loss=loss, steps=steps, amp=amp, checkpoint_every=steps)
    with tempfile.TemporaryDirectory(prefix="percmusic-gpu-bench-") as run_dir:
        start = time.perf_counter()
        result = train(cfg, model_cfg, Path(run_dir))
        _sync(device)
        wall = time.perf_counter() - start
    return [value for _, value in result.loss_history], wall


def relative(a: np.ndarray, b: np.ndarray) -> float:
    import numpy as np

    scale = float(np.max(np.abs(b))) or 1.0
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b)))) / scale


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    p.add_argument("--n", type=int, default=930, help="images per matrix")
    p.add_argument("--preset", default="default")
    p.add_argument("--steps", type=int, default=None, help="training steps (default: preset's)")
    p.add_argument("--check-steps", type=int, default=50, help="losses compared with the CPU")
    p.add_argument("--metrics", default="mse,nlpd,msssim")
    a = p.parse_args()
    import numpy as np
    import torch

    from percmusic_cli.config import preset as merge_preset
    from percmusic_cli.metrics import registry

    if a.device == "cuda" and not torch.cuda.is_available():
        print("no CUDA device: torch sees no GPU, nothing to benchmark (use --device cpu to "
              "try the machinery)")  # fmt: skip
        return 0
    name = torch.cuda.get_device_name(0) if a.device == "cuda" else "CPU"
    steps = a.steps or merge_preset(a.preset)[0].steps
    check = min(a.check_steps, steps)
    rows: list[tuple[str, str, float, str]] = []
    ok = True
    images = _images(a.n)
    for metric in a.metrics.split(","):
        cpu, t_cpu = matrix(metric, images, "cpu")
        dev, t_dev = matrix(metric, images, a.device)
        err = relative(dev, cpu)
        ok = ok and err <= MATRIX_RTOL
        verdict = f"{'ok' if err <= MATRIX_RTOL else 'FAIL'} (rel {err:.1e})"
        rows.append((f"{metric} matrix {a.n} x {a.n}", f"{t_cpu:.1f}", t_dev, verdict))
    for device in sorted({"cpu", a.device}):
        training("mse", device, 2, amp=False, preset=a.preset)  # warm-up: first-call costs
    for loss in registry.study_names():
        ref, t_ref = training(loss, "cpu", check, amp=False, preset=a.preset)
        got, _ = training(loss, a.device, check, amp=False, preset=a.preset)
        err = relative(np.array(got), np.array(ref))
        _, t_dev = training(loss, a.device, steps, amp=True, preset=a.preset)
        ok = ok and err <= LOSS_RTOL
        verdict = f"{'ok' if err <= LOSS_RTOL else 'FAIL'} (first {check} losses rel {err:.1e})"
        est = "" if check == steps else " est."
        stage = f"train {loss}, {a.preset}, {steps} steps"
        rows.append((stage, f"{t_ref * steps / check:.1f}{est}", t_dev, verdict))
    print(f"device: {name}; torch {torch.__version__}\n")
    print(f"| stage | CPU s | {a.device} s | ratio CPU / {a.device} | check |")
    print("| --- | ---: | ---: | ---: | --- |")
    for stage, cpu_s, dev_s, verdict in rows:
        ratio = float(cpu_s.split()[0]) / dev_s if dev_s > 0 else float("inf")
        print(f"| {stage} | {cpu_s} | {dev_s:.1f} | {ratio:.1f}x | {verdict} |")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
