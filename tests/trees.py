"""Tiny audio trees and broken files written on the fly (shared by the test folders)."""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf

from percmusic_cli.datasets.gtzan import GENRES

SR = 22050
CLIP_SECONDS = 1.5


def write_wav(path: Path, samples: np.ndarray, sr: int, subtype: str = "PCM_16") -> Path:
    """Write `samples` ((n,) mono or (n, channels)) as a WAV file, creating folders."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), np.asarray(samples), sr, subtype=subtype, format="WAV")
    return path


def tone_clip(
    freq: float, seconds: float = CLIP_SECONDS, sr: int = SR, seed: int = 0
) -> np.ndarray:
    """A tone with a little noise and a decay, so images have texture but differ by class."""
    t = np.arange(round(seconds * sr)) / sr
    rng = np.random.default_rng(seed)
    wave = np.sin(2 * np.pi * freq * t) + 0.3 * np.sin(2 * np.pi * 2.01 * freq * t)
    wave = wave * np.exp(-t * 1.5) + 0.05 * rng.standard_normal(t.size)
    return (0.4 * wave / np.max(np.abs(wave))).astype(np.float32)


def _riff(fmt: bytes, data: bytes, declared: int | None = None) -> bytes:
    size = len(data) if declared is None else declared
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", size) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def pcm16_header_fmt(sr: int, channels: int) -> bytes:
    return struct.pack("<HHIIHH", 1, channels, sr, sr * 2 * channels, 2 * channels, 16)


def write_broken(path: Path, kind: str) -> Path:
    """One broken file of `kind`: garbage, empty, truncated, nan, zero_length, short,
    zero_rate, many_channels."""
    path.parent.mkdir(parents=True, exist_ok=True)
    good = (tone_clip(330.0) * 32767).astype("<i2").tobytes()
    if kind == "garbage":
        path.write_bytes(np.random.default_rng(1).bytes(4000))
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "truncated":
        path.write_bytes(_riff(pcm16_header_fmt(SR, 1), good[: len(good) // 3], len(good)))
    elif kind == "nan":
        data = tone_clip(330.0)
        data[100:200] = np.nan
        write_wav(path, data, SR, subtype="FLOAT")
    elif kind == "zero_length":
        path.write_bytes(_riff(pcm16_header_fmt(SR, 1), b""))
    elif kind == "short":
        write_wav(path, tone_clip(330.0, seconds=0.2), SR)
    elif kind == "zero_rate":
        path.write_bytes(_riff(pcm16_header_fmt(0, 1), good))
    elif kind == "many_channels":
        path.write_bytes(_riff(pcm16_header_fmt(SR, 100), good))
    else:
        raise ValueError(kind)
    return path


# kind -> a word the DecodeError reason contains
BROKEN_KINDS = {
    "garbage": "not a recognised audio format",
    "empty": "empty",
    "truncated": "truncated",
    "nan": "NaN",
    "zero_length": "zero-length",
    "short": "too short",
    "zero_rate": "sample rate",
    "many_channels": "channel count",
}


@dataclass
class TinyTree:
    root: Path  # the folder to hand to discover / ingest
    good: list[str] = field(default_factory=list)  # track ids that decode
    broken: dict[str, str] = field(default_factory=dict)  # track id -> reason keyword
    non_audio: list[Path] = field(default_factory=list)  # files discovery reports
    labels: dict[str, str] = field(default_factory=dict)  # track id -> label


def _split_ids_per_genre() -> dict[str, list[str]]:
    """For each genre, its first train, valid and test track of the fault-filtered split."""
    from percmusic_cli.datasets.gtzan import fault_filtered_split

    split = fault_filtered_split()
    chosen: dict[str, list[str]] = {}
    for genre in GENRES:
        ids = sorted(t for t in split if t.startswith(genre + "."))
        chosen[genre] = [next(t for t in ids if split[t] == s) for s in ("train", "valid", "test")]
    return chosen


def build_gtzan_tree(root: Path) -> TinyTree:
    """The tiny GTZAN tree at `root` (also for module-scoped fixtures)."""
    tree = TinyTree(root=root)
    genres = tree.root / "genres"
    for g, (genre, ids) in enumerate(_split_ids_per_genre().items()):
        for j, track in enumerate(ids):
            write_wav(genres / genre / f"{track}.wav", tone_clip(110.0 * (g + 1), seed=j), SR)
            tree.good.append(track)
            tree.labels[track] = genre
    # Broken files carry GTZAN names outside the split (Kaggle's jazz.00054 is the classic).
    names = ["jazz.00054", "blues.00090", "classical.00091", "country.00092", "disco.00093",
             "hiphop.00094", "metal.00095", "pop.00096"]  # fmt: skip
    for name, kind in zip(names, BROKEN_KINDS, strict=True):
        genre = name.split(".")[0]
        write_broken(genres / genre / f"{name}.wav", kind)
        tree.broken[name] = BROKEN_KINDS[kind]
        tree.labels[name] = genre
    notes = genres / "rock" / "notes.txt"
    notes.write_text("not audio\n")
    tree.non_audio.append(notes)
    (genres / "rock" / ".DS_Store").write_bytes(b"\0\0")  # hidden: skipped silently
    return tree


def real_gtzan_dir() -> Path | None:
    """The folder of real GTZAN tracks that PERCMUSIC_GTZAN_DIR names, or None (tests that
    need real tracks skip then; no test hard-codes where they live on some machine)."""
    value = os.environ.get("PERCMUSIC_GTZAN_DIR")
    return Path(value) if value and Path(value).is_dir() else None
