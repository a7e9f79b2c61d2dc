"""Encoding whole spectrograms on the CPU: tracks per batch against time, memory and bits.

    .venv/bin/python benchmarks/encode_batch.py                       # 1, 2, 4, 16; 3 rounds
    .venv/bin/python benchmarks/encode_batch.py --batches 2 16 --songs 32 --rounds 2

Each run is a fresh process (so its peak RSS is its own) that encodes --songs random
128 x 1290 images with the default-preset encoder (seeded weights, GDN moved off its
initial values so the norms are not trivial) through `encode_pooled`, the study's latent
step. The batch sizes alternate within each round. Prints seconds per 100 songs (median of
the rounds), peak RSS, and whether every batch size gave the same pooled latents, bit for bit.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import percmusic_cli  # noqa: F401  (first: its thread policy must precede torch's OpenMP)

# isort: split
import numpy as np


def _args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--batches", type=int, nargs="+", default=[1, 2, 4, 16])
    p.add_argument("--songs", type=int, default=48)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--child", nargs=2, metavar=("BATCH", "OUT"), help=argparse.SUPPRESS)
    return p.parse_args()


def child(batch: int, songs: int, out: Path) -> None:
    """Encode in this process; write the latents and a JSON line of the figures."""
    import torch

    from percmusic_cli.config import ModelConfig
    from percmusic_cli.experiments.encode import encode_pooled
    from percmusic_cli.models.autoencoder import build_autoencoder

    torch.manual_seed(0)
    model = build_autoencoder(ModelConfig())
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.rand(p.shape, generator=torch.Generator().manual_seed(1)) * 0.1)
    images = np.random.default_rng(0).random((songs, 128, 1290), dtype=np.float32)
    encode_pooled(model, images[:1], batch_size=1)  # warm-up: oneDNN's first-call set-up
    t0 = time.perf_counter()
    latents = encode_pooled(model, images, batch_size=batch)
    wall = time.perf_counter() - t0
    np.save(out, latents)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"per100": wall / songs * 100, "rss_mib": rss}))


def main() -> None:
    a = _args()
    if a.child:
        child(int(a.child[0]), a.songs, Path(a.child[1]))
        return
    per100: dict[int, list[float]] = {b: [] for b in a.batches}
    rss: dict[int, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(a.rounds):
            for b in a.batches:
                out = Path(tmp) / f"b{b}.npy"
                cmd = [
                    sys.executable,
                    __file__,
                    "--songs",
                    str(a.songs),
                    "--child",
                    str(b),
                    str(out),
                ]
                line = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
                got = json.loads(line.strip().splitlines()[-1])
                per100[b].append(got["per100"])
                rss[b] = max(rss.get(b, 0.0), got["rss_mib"])
        first = np.load(Path(tmp) / f"b{a.batches[0]}.npy")
        same = {b: bool(np.array_equal(first, np.load(Path(tmp) / f"b{b}.npy"))) for b in a.batches}
    base = statistics.median(per100[a.batches[-1]])
    print(f"{a.songs} random 128 x 1290 images, default-preset encoder, {a.rounds} rounds\n")
    print(
        f"| tracks per batch | s per 100 songs (median) | vs {a.batches[-1]} | peak RSS MiB "
        f"| latents equal to batch {a.batches[0]} |"
    )
    print("| ---: | ---: | ---: | ---: | --- |")
    for b in a.batches:
        med = statistics.median(per100[b])
        print(f"| {b} | {med:.1f} | {base / med:.2f}x | {rss[b]:.0f} | {same[b]} |")


if __name__ == "__main__":
    main()
