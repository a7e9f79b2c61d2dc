"""`features`: one log-mel image per usable track, stored as one array per feature set.

The feature set's key hashes the spectrogram parameters and every input file's md5, so
a changed parameter or file gives a new set and an unchanged one is reused. Work is
done in chunks saved as parts, so a killed run resumes at the next chunk."""

from __future__ import annotations

import dataclasses
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from percmusic_cli.audio import LogMel, decode
from percmusic_cli.config import SpectrogramConfig, check_device, check_frames
from percmusic_cli.devices import resolve_device
from percmusic_cli.errors import DataError
from percmusic_cli.hashing import param_hash
from percmusic_cli.progress import NullReporter, Reporter, kept
from percmusic_cli.store import Store
from percmusic_cli.store import arrays as a
from percmusic_cli.store import tables as t

CHUNK = 32


@dataclass
class FeatureSummary:
    dataset: str
    feature_hash: str
    n_tracks: int
    n_mels: int
    n_frames: int
    padded: int
    reused: bool
    array_path: str
    wall_s: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def frame_count(cfg: SpectrogramConfig, durations: list[float], explicit: bool) -> int:
    """GTZAN keeps 1290 frames; a set of shorter clips gets the frames its median clip
    fills, so its images are not mostly padding (protocol.md)."""
    if explicit or not durations:
        return cfg.n_frames
    return min(cfg.n_frames, cfg.frames_for(statistics.median(durations)))


def feature_key(cfg: SpectrogramConfig, rows: list[t.TrackRow]) -> str:
    return param_hash(cfg, [(r.track_id, r.md5) for r in rows])


def compute_features(
    store: Store,
    dataset: str,
    cfg: SpectrogramConfig | None = None,
    n_frames: int | None = None,
    device: str = "auto",
    reporter: Reporter | None = None,
) -> FeatureSummary:
    reporter = reporter or NullReporter()
    started = time.monotonic()
    check_device(device)  # also when the features are reused
    base = cfg or SpectrogramConfig()
    if n_frames is not None:
        check_frames(n_frames)
    with store.connect(read_only=True) as con:
        rows = t.tracks(con, dataset, only_ok=True)
    if not rows:
        raise DataError(f"dataset {dataset!r} has no usable tracks: run `percmusic ingest`")
    frames = (
        n_frames
        if n_frames is not None
        else frame_count(base, [r.duration_s or 0.0 for r in rows], False)
    )
    cfg = dataclasses.replace(base, n_frames=frames)
    key = feature_key(cfg, rows)
    rel = f"arrays/features-{key}.npy"
    with store.connect(read_only=True) as con:
        existing = t.feature_set(con, key)
    if existing is not None:
        with store.connect() as con:
            t.set_active_features(con, dataset, key)
        return _summary(dataset, existing, reused=True, started=started)

    dev = resolve_device(device)
    logmel = LogMel(cfg, dev)
    chunks = [rows[i : i + CHUNK] for i in range(0, len(rows), CHUNK)]
    task = reporter.task(f"features {dataset}", total=len(rows), unit="tracks")
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            for n, chunk in enumerate(chunks):
                part = f"chunk-{n:05d}"
                if not a.has_part(store.root, rel, part):
                    images, padded = _chunk_images(chunk, cfg, logmel, pool)
                    a.write_part(store.root, rel, part, {"images": images, "padded": padded})
                task.advance(len(chunk))
                done = min(len(rows), (n + 1) * CHUNK)
                kept(f"features of {done} of {len(rows)} tracks kept")
    finally:
        task.close()
    fs = _assemble(store, dataset, cfg, key, rel, rows, len(chunks))
    return _summary(dataset, fs, reused=False, started=started)


def _chunk_images(
    chunk: list[t.TrackRow], cfg: SpectrogramConfig, logmel: LogMel, pool: ThreadPoolExecutor
) -> tuple[np.ndarray, np.ndarray]:
    clips = list(pool.map(lambda r: decode(Path(r.path), cfg.sample_rate).samples, chunk))
    images, padded = logmel(clips)
    return images.astype(np.float32), padded.astype(bool)


def _assemble(
    store: Store,
    dataset: str,
    cfg: SpectrogramConfig,
    key: str,
    rel: str,
    rows: list[t.TrackRow],
    n_chunks: int,
) -> t.FeatureSet:
    parts = [f"chunk-{n:05d}" for n in range(n_chunks)]
    shape = (len(rows), cfg.n_mels, cfg.n_frames)
    rec = a.assemble_parts(
        store.root, rel, parts, "images", shape, np.dtype(np.float32), kind="features"
    )
    padded = np.concatenate([a.read_part(store.root, rel, p, ("padded",))["padded"] for p in parts])
    fs = t.FeatureSet(
        key,
        dataset,
        asdict(cfg),
        len(rows),
        cfg.n_mels,
        cfg.n_frames,
        rel,
        [r.track_id for r in rows],
        [bool(p) for p in padded],
    )
    with store.connect() as con:
        t.save_feature_set(con, fs, rec)
    a.remove_parts(store.root, rel)
    return fs


def _summary(dataset: str, fs: t.FeatureSet, reused: bool, started: float) -> FeatureSummary:
    return FeatureSummary(
        dataset,
        fs.feature_hash,
        fs.n_tracks,
        fs.n_mels,
        fs.n_frames,
        sum(fs.padded),
        reused,
        fs.array_path,
        round(time.monotonic() - started, 3),
    )


def features_path(store: Store, feature_hash: str) -> str:
    """The feature array's path relative to the store root (for tasks that memory-map it)."""
    with store.connect(read_only=True) as con:
        fs = t.feature_set(con, feature_hash)
    if fs is None:
        raise DataError(f"no feature set {feature_hash} in the store: run `percmusic features`")
    return fs.array_path


def load_features(store: Store, feature_hash: str) -> tuple[t.FeatureSet, np.ndarray]:
    """The feature set and its images (N, n_mels, n_frames), verified against the store."""
    with store.connect(read_only=True) as con:
        fs = t.feature_set(con, feature_hash)
        rec = t.array_record(con, fs.array_path) if fs else None
    if fs is None or rec is None:
        raise DataError(f"no feature set {feature_hash} in the store: run `percmusic features`")
    return fs, a.read_array(store.root, rec)
