"""`features`: one log-mel image per usable track, stored as one array per feature set.

The feature set's key hashes the spectrogram parameters and every input file's md5, so
a changed parameter or file gives a new set and an unchanged one is reused. Work is
done in chunks saved as parts, so a killed run resumes at the next chunk."""

from __future__ import annotations

import dataclasses
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from percmusic_cli.audio import LogMel, decode
from percmusic_cli.config import SpectrogramConfig, check_device, check_frames
from percmusic_cli.devices import resolve_device
from percmusic_cli.errors import DataError, DecodeError
from percmusic_cli.hashing import param_hash
from percmusic_cli.progress import NullReporter, Reporter
from percmusic_cli.steps import sources
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
    # tracks left out by this run, path -> reason (their rows now say status "error")
    failed: dict[str, str] = field(default_factory=dict)
    changed: list[str] = field(default_factory=list)  # sources hashed again: new content

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


@dataclass
class _Pass:
    """One attempt at a feature set over the tracks usable at its start."""

    rows: list[t.TrackRow]
    cfg: SpectrogramConfig
    key: str
    rel: str


def compute_features(
    store: Store,
    dataset: str,
    cfg: SpectrogramConfig | None = None,
    n_frames: int | None = None,
    device: str = "auto",
    reporter: Reporter | None = None,
) -> FeatureSummary:
    """Images of every usable track. A track that cannot give a finite image (unreadable,
    deleted, or samples so large the log-mel overflows) is marked failed with its reason
    and the set is made from the others: at most one more pass, since the key changes."""
    reporter = reporter or NullReporter()
    started = time.monotonic()
    check_device(device)  # also when the features are reused
    base = cfg or SpectrogramConfig()
    if n_frames is not None:
        check_frames(n_frames)
    failed: dict[str, str] = {}
    changed: list[str] = []
    while True:
        run = _plan(store, dataset, base, n_frames, reporter, failed, changed)
        with store.connect(read_only=True) as con:
            existing = t.feature_set(con, run.key)
        if existing is not None:
            with store.connect() as con:
                t.set_active_features(con, dataset, run.key)
            return _summary(dataset, existing, True, started, failed, changed)
        bad = _compute_parts(store, dataset, run, device, reporter)
        if not bad:
            break
        with store.connect() as con:
            t.fail_tracks(con, dataset, {tid: why for tid, (_, why) in bad.items()})
        for path, why in bad.values():
            failed[path] = why
            reporter.log(f"features: left out {path}: {why}")
        a.remove_parts(store.root, run.rel)  # keyed by the old track list: never used again
    fs = _assemble(store, dataset, run.cfg, run.key, run.rel, run.rows, _n_chunks(run.rows))
    return _summary(dataset, fs, False, started, failed, changed)


def _plan(
    store: Store,
    dataset: str,
    base: SpectrogramConfig,
    n_frames: int | None,
    reporter: Reporter,
    failed: dict[str, str],
    changed: list[str],
) -> _Pass:
    with store.connect(read_only=True) as con:
        rows = t.tracks(con, dataset, only_ok=True)
    src = sources.refresh(store, dataset, rows)
    for path in src.changed:
        changed.append(path)
        reporter.log(f"features: {path} changed since ingest; its new content is used")
    by_id = {r.track_id: r.path for r in rows}
    for tid, why in src.missing.items():
        failed[by_id[tid]] = why
        reporter.log(f"features: left out {why}")
    rows = src.rows
    if not rows:
        raise DataError(f"dataset {dataset!r} has no usable tracks: run `percmusic ingest`")
    frames = (
        n_frames
        if n_frames is not None
        else frame_count(base, [r.duration_s or 0.0 for r in rows], False)
    )
    cfg = dataclasses.replace(base, n_frames=frames)
    key = feature_key(cfg, rows)
    return _Pass(rows, cfg, key, f"arrays/features-{key}.npy")


def _n_chunks(rows: list[t.TrackRow]) -> int:
    return (len(rows) + CHUNK - 1) // CHUNK


def _compute_parts(
    store: Store, dataset: str, run: _Pass, device: str, reporter: Reporter
) -> dict[str, tuple[str, str]]:
    """Write every chunk's part; returns the tracks that gave no finite image,
    track_id -> (path, reason). A chunk holding one is not written."""
    logmel = LogMel(run.cfg, resolve_device(device))
    if logmel.empty_bands:  # LogMel says what an empty band is
        reporter.log(
            f"warning: {logmel.empty_bands} of {run.cfg.n_mels} mel bands are empty at "
            f"n_fft {run.cfg.n_fft}; use fewer --n-mels"
        )
    chunks = [run.rows[i : i + CHUNK] for i in range(0, len(run.rows), CHUNK)]
    bad: dict[str, tuple[str, str]] = {}
    task = reporter.task(f"features {dataset}", total=len(run.rows), unit="tracks")
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            for n, chunk in enumerate(chunks):
                part = f"chunk-{n:05d}"
                why = a.part_problem(store.root, run.rel, part)
                if why is not None:
                    a.discard_part(store.root, run.rel, part)
                    reporter.log(
                        f"features: part {part} of {run.rel} discarded ({why}); recomputing"
                    )
                if not a.has_part(store.root, run.rel, part):
                    images, padded, chunk_bad = _chunk_images(chunk, run.cfg, logmel, pool)
                    bad.update(chunk_bad)
                    if not chunk_bad:
                        a.write_part(
                            store.root, run.rel, part, {"images": images, "padded": padded}
                        )
                task.advance(len(chunk))
                done = min(len(run.rows), (n + 1) * CHUNK)
                reporter.kept(f"features of {done} of {len(run.rows)} tracks kept")
    finally:
        task.close()
    return bad


def _decode(row: t.TrackRow, sample_rate: int) -> np.ndarray | str:
    try:
        return decode(Path(row.path), sample_rate).samples
    except DecodeError as exc:
        return str(exc)


def _chunk_images(
    chunk: list[t.TrackRow], cfg: SpectrogramConfig, logmel: LogMel, pool: ThreadPoolExecutor
) -> tuple[np.ndarray, np.ndarray, dict[str, tuple[str, str]]]:
    decoded = list(pool.map(lambda r: _decode(r, cfg.sample_rate), chunk))
    bad = {
        r.track_id: (r.path, d) for r, d in zip(chunk, decoded, strict=True) if isinstance(d, str)
    }
    clips = [
        d if isinstance(d, np.ndarray) else np.zeros(cfg.sample_rate, np.float32) for d in decoded
    ]
    images, padded = logmel(clips)
    finite = np.isfinite(images.reshape(len(chunk), -1)).all(axis=1)
    for row, clip, ok in zip(chunk, clips, finite, strict=True):
        if not ok and row.track_id not in bad:
            peak = float(np.max(np.abs(clip))) if clip.size else 0.0
            bad[row.track_id] = (
                row.path,
                f"its log-mel image is not finite (peak sample amplitude {peak:.3g}; "
                "expected at most about 1)",
            )
    return images.astype(np.float32), padded.astype(bool), bad


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


def _summary(
    dataset: str,
    fs: t.FeatureSet,
    reused: bool,
    started: float,
    failed: dict[str, str],
    changed: list[str],
) -> FeatureSummary:
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
        failed,
        changed,
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
    images = a.read_array(store.root, rec)
    bad = a.nonfinite_rows(images)
    if len(bad):
        raise DataError(
            f"feature set {feature_hash} holds NaN or infinite images for tracks "
            f"{name_rows(fs.track_ids, bad)}: run `percmusic check --repair`, then "
            "`percmusic features` (which leaves such tracks out)"
        )
    return fs, images


def name_rows(track_ids: list[str], rows: np.ndarray, most: int = 5) -> str:
    """'a, b, c and 4 more': the tracks of `rows`, for a one-line message."""
    names = [track_ids[int(i)] if int(i) < len(track_ids) else f"row {int(i)}" for i in rows[:most]]
    more = f" and {len(rows) - most} more" if len(rows) > most else ""
    return ", ".join(names) + more
