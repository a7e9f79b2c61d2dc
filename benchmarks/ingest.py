"""Ingest + features throughput on real GTZAN tracks, beside a plain librosa loop.

Usage: .venv/bin/python benchmarks/ingest.py [--dir ../shared/data/gtzan_dev] [--repeat 1]
Prints Markdown. (a) project path: decode (soundfile + soxr + checks) + md5 of the file
+ batched torch LogMel; (b) plain loop: librosa.load(sr=22050) + melspectrogram +
power_to_db per file. Both in one process, (b) after (a), each after one warm-up file.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path

import numpy as np

from percmusic_cli.audio import LogMel, decode, logmel_reference
from percmusic_cli.config import SpectrogramConfig
from percmusic_cli.datasets.folder import discover


def project_path(paths: list[Path], cfg: SpectrogramConfig, batch: int) -> float:
    logmel = LogMel(cfg)
    start = time.perf_counter()
    for i in range(0, len(paths), batch):
        clips = []
        for path in paths[i : i + batch]:
            clips.append(decode(path, cfg.sample_rate).samples)
            hashlib.md5(path.read_bytes()).hexdigest()
        logmel(clips)
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
    parser.add_argument("--batch", type=int, default=8)
    args = parser.parse_args()
    if not args.dir.is_dir():
        print(f"skipped: {args.dir} is absent (point --dir at a GTZAN copy)")
        return 0
    cfg = SpectrogramConfig()
    paths = [f.path for f in discover(args.dir).files]
    audio_s = sum(decode(p).duration_s for p in paths)  # also warms the page cache
    LogMel(cfg)([decode(paths[0]).samples])
    logmel_reference(decode(paths[0]).samples, cfg)
    t_project = project_path(paths, cfg, args.batch)
    t_librosa = librosa_loop(paths, cfg)
    print(f"{len(paths)} tracks, {audio_s:.1f} s of audio\n")
    print("| path | wall s | x real time |\n| --- | ---: | ---: |")
    print(
        f"| project: decode + md5 + batched LogMel | {t_project:.2f} | {audio_s / t_project:.0f} |"
    )
    print(f"| plain librosa load + mel + dB | {t_librosa:.2f} | {audio_s / t_librosa:.0f} |")
    print(f"\nspeed-up of the project path: {t_librosa / t_project:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
