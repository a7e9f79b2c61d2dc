"""Ingest + features throughput on real GTZAN tracks, beside a plain librosa loop.

Usage: .venv/bin/python benchmarks/ingest.py [--dir ../shared/data/gtzan_dev] [--repeat 3]
Prints Markdown. In one process, alternating, best of `--repeat`:
(a) percmusic: `api.ingest` + `api.features` into a fresh temporary store (md5 of every
    file, decode checks, the store's writes, batched torch log-mel);
(b) a plain loop: librosa.load(sr=22050) + melspectrogram + power_to_db per file.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from percmusic_cli import api
from percmusic_cli.audio import LogMel, decode
from percmusic_cli.config import SpectrogramConfig
from percmusic_cli.datasets.folder import discover


def percmusic_path(root: Path) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        store = api.open_store(Path(tmp) / "store")
        start = time.perf_counter()
        api.ingest(store, root)
        api.features(store, device="cpu")
        return time.perf_counter() - start


def compute_only(paths: list[Path], cfg: SpectrogramConfig) -> float:
    """The same decode and log-mel as `features` (chunks of 32, decoded on 2 threads),
    without md5, ingest's checks or the store."""
    logmel = LogMel(cfg, "cpu")
    start = time.perf_counter()
    with ThreadPoolExecutor(2) as pool:
        for i in range(0, len(paths), 32):
            chunk = paths[i : i + 32]
            logmel(list(pool.map(lambda p: decode(p, cfg.sample_rate).samples, chunk)))
    return time.perf_counter() - start


def librosa_loop(paths: list[Path], cfg: SpectrogramConfig) -> float:
    import librosa

    start = time.perf_counter()
    for path in paths:
        y, _ = librosa.load(path, sr=cfg.sample_rate)
        mel = librosa.feature.melspectrogram(
            y=y, sr=cfg.sample_rate, n_fft=cfg.n_fft, hop_length=cfg.hop_length, n_mels=cfg.n_mels
        )
        librosa.power_to_db(mel, ref=np.max, top_db=cfg.top_db)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=Path("../shared/data/gtzan_dev"))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not args.dir.is_dir():
        print(f"skipped: {args.dir} is absent (point --dir at a GTZAN copy)")
        return 0
    cfg = SpectrogramConfig()
    paths = [f.path for f in discover(args.dir).files]
    audio_s = sum(decode(p).duration_s for p in paths)  # also warms the page cache
    librosa_loop(paths[:1], cfg)  # imports and first-call costs out of the timings
    ours, compute, theirs = [], [], []
    for _ in range(args.repeat):
        ours.append(percmusic_path(args.dir))
        compute.append(compute_only(paths, cfg))
        theirs.append(librosa_loop(paths, cfg))
    t_ours, t_compute, t_theirs = min(ours), min(compute), min(theirs)
    cpu = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        ),
        platform.processor(),
    )
    print(
        f"{len(paths)} tracks, {audio_s:.1f} s of audio; {os.cpu_count()} x {cpu}; "
        f"load average before {os.getloadavg()[0]:.2f}\n"
    )
    print(f"| path (best of {args.repeat}) | wall s | x real time |\n| --- | ---: | ---: |")
    print(
        f"| percmusic ingest + features (store writes included) | {t_ours:.2f} "
        f"| {audio_s / t_ours:.0f} |"
    )
    print(
        f"| percmusic decode + LogMel only (no md5, no store) | {t_compute:.2f} "
        f"| {audio_s / t_compute:.0f} |"
    )
    print(f"| plain librosa load + mel + dB | {t_theirs:.2f} | {audio_s / t_theirs:.0f} |")
    print(
        f"\nspeed vs the librosa loop: end to end {t_theirs / t_ours:.2f}x, decode + log-mel "
        f"alone {t_theirs / t_compute:.2f}x; 1000 GTZAN clips end to end: about "
        f"{1000 * t_ours / len(paths):.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
