"""Throughput alone and beside two CPU-bound busy processes, side by side in one script.

    .venv/bin/python benchmarks/contention.py [--seconds 10] [--env OMP_WAIT_POLICY=ACTIVE]

Two workloads, each in a fresh process (thread settings are read when torch and numba load):
  - train: quick-preset autoencoder steps (batch 4, patch 128, hidden 32, latent 16) on noise,
    loss 1 - MS-SSIM, the real step (forward, loss, backward, Adam);
  - matrix: a 1 - MS-SSIM distance matrix of 128 x 1290 images (the numba kernel).
Each runs for --seconds alone, then beside two busy loops (plain Python `while True`). A
workload passes when it keeps at least 1/3 of its solo throughput: with 3 runnable
processes on 2 cores a fair share is 2/3 of a core each. `--env K=V` overrides the thread
policy that `percmusic_cli` applies at start-up (percmusic_cli/threads.py), to measure the
old behaviour, e.g. --env OMP_WAIT_POLICY=ACTIVE --env KMP_BLOCKTIME=200."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import percmusic_cli  # noqa: F401  (first: its thread policy must precede torch's OpenMP)

BUSY = "while True:\n    pass\n"


def _train_worker(seconds: float) -> dict[str, float]:
    import torch

    from percmusic_cli.config import preset
    from percmusic_cli.models.autoencoder import build_autoencoder
    from percmusic_cli.models.losses import loss_function

    train, model_cfg = preset("quick")
    torch.manual_seed(0)
    model = build_autoencoder(model_cfg)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = loss_function("msssim")
    gen = torch.Generator().manual_seed(0)
    shape = (train.batch_size, 1, train.patch, train.patch)

    def step() -> None:
        x = torch.rand(shape, generator=gen)
        value = loss_fn(model(x).float(), x)
        opt.zero_grad(set_to_none=True)
        value.backward()
        opt.step()

    for _ in range(3):
        step()  # warm-up
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        step()
        steps += 1
    return {"rate": steps / (time.perf_counter() - start), "threads": torch.get_num_threads()}


def _matrix_worker(seconds: float) -> dict[str, float]:
    import numba
    import numpy as np

    from percmusic_cli.config import MsssimConfig
    from percmusic_cli.metrics._msssim_state import msssim_tile, prepare_msssim

    images = np.random.default_rng(0).random((16, 128, 1290), dtype=np.float32)
    state = prepare_msssim(images, MsssimConfig(), "cpu")
    msssim_tile(state, state, slice(0, 2), slice(2, 4))  # compile or load the kernel
    pairs, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        msssim_tile(state, state, slice(0, 8), slice(8, 16))
        pairs += 64
    rate = pairs / (time.perf_counter() - start)
    return {"rate": rate, "threads": numba.get_num_threads()}


WORKERS = {"train": (_train_worker, "steps/s"), "matrix": (_matrix_worker, "pairs/s")}


def _measure(kind: str, seconds: float, env: dict[str, str], busy: int) -> dict[str, float]:
    hogs = [subprocess.Popen([sys.executable, "-c", BUSY]) for _ in range(busy)]
    try:
        cmd = [sys.executable, __file__, "--worker", kind, "--seconds", str(seconds)]
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
    return dict(json.loads(out.strip().splitlines()[-1]))


def _load() -> str:
    return os.popen("uptime").read().strip()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--seconds", type=float, default=10.0, help="timed seconds per measurement")
    p.add_argument("--busy", type=int, default=2, help="busy processes beside the workload")
    p.add_argument("--env", action="append", default=[], metavar="K=V")
    p.add_argument("--only", choices=sorted(WORKERS), action="append")
    p.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.worker:
        print(json.dumps(WORKERS[a.worker][0](a.seconds)))
        return
    env = dict(os.environ)
    env.update(kv.split("=", 1) for kv in a.env)
    print(f"load before: {_load()}; nproc {os.cpu_count()}; overrides: {a.env or 'none'}\n")
    print(f"| workload | unit | solo | beside {a.busy} busy | kept | >= 1/3 | threads |")
    print("| --- | --- | ---: | ---: | ---: | --- | ---: |")
    ok = True
    for kind in a.only or sorted(WORKERS):
        solo = _measure(kind, a.seconds, env, 0)
        shared = _measure(kind, a.seconds, env, a.busy)
        kept = shared["rate"] / solo["rate"]
        ok = ok and kept >= 1 / 3
        print(
            f"| {kind} | {WORKERS[kind][1]} | {solo['rate']:.1f} | {shared['rate']:.1f} "
            f"| {kept:.2f} | {'yes' if kept >= 1 / 3 else 'NO'} | {int(solo['threads'])} |"
        )
    print(f"\nload after: {_load()}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
