"""`ingest`: find a dataset's audio, check and describe every file, record it.

One bad file never stops the batch: it becomes a track row with status "error" and a
one-line reason. Rows are committed in small chunks, so a killed run loses at most the
chunk in flight and a rerun does only the files not yet recorded."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from percmusic_cli.audio import decode
from percmusic_cli.config import SpectrogramConfig, check_dataset_name
from percmusic_cli.datasets import fma, gtzan, synthetic
from percmusic_cli.datasets.archive import Limits, safe_extract
from percmusic_cli.datasets.folder import Discovery, SourceFile, discover
from percmusic_cli.datasets.manifest import read_manifest
from percmusic_cli.errors import DataError, DecodeError, UsageError
from percmusic_cli.hashing import file_digest
from percmusic_cli.progress import NullReporter, Reporter
from percmusic_cli.store import Store
from percmusic_cli.store import tables as t
from percmusic_cli.store.source_splits import replace_source_split

ARCHIVE_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")
CHUNK = 16
FLUSH_SECONDS = 2.0


@dataclass
class IngestSummary:
    dataset: str
    kind: str
    root: str
    found: int = 0
    new: int = 0
    skipped: int = 0
    ok: int = 0
    failed: int = 0
    relabelled: int = 0  # tracks whose label the source now gives differently
    stale: list[str] = field(default_factory=list)  # stored tracks the source lists no more
    failures: list[dict[str, str]] = field(default_factory=list)
    problems: list[dict[str, str]] = field(default_factory=list)
    md5: dict[str, int] = field(default_factory=dict)
    wall_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _is_archive(path: Path) -> bool:
    return path.is_file() and path.name.lower().endswith(ARCHIVE_SUFFIXES)


def _examine(dataset: str, kind: str, src: SourceFile, sample_rate: int) -> t.TrackRow:
    """Describe one file; never raises for a bad file."""
    base: dict[str, Any] = {
        "dataset": dataset,
        "track_id": src.track_id,
        "label": src.label,
        "rel_path": src.rel_path,
        "path": str(src.path),
    }
    try:
        # stat before hashing: a file changed meanwhile shows a newer mtime next time
        st = src.path.stat()
        base.update(size=st.st_size, mtime_ns=st.st_mtime_ns)
        md5 = file_digest(src.path, "md5")
    except OSError as exc:
        return t.TrackRow(
            **base,
            md5=None,
            md5_status=None,
            duration_s=None,
            sample_rate=None,
            channels=None,
            status="error",
            error=f"unreadable: {exc.strerror}",
        )
    md5_status = gtzan.md5_status(src.rel_path, md5) if kind == "gtzan" else None
    try:
        audio = decode(src.path, target_sr=sample_rate)
    except DecodeError as exc:
        return t.TrackRow(
            **base,
            md5=md5,
            md5_status=md5_status,
            duration_s=None,
            sample_rate=None,
            channels=None,
            status="error",
            error=str(exc),
        )
    return t.TrackRow(
        **base,
        md5=md5,
        md5_status=md5_status,
        duration_s=audio.duration_s,
        sample_rate=audio.orig_sr,
        channels=audio.channels,
        status="ok",
        error=None,
    )


def _chunks(rows: Iterator[t.TrackRow]) -> Iterator[list[t.TrackRow]]:
    """Group results so each commit holds a few files or a couple of seconds of work."""
    chunk: list[t.TrackRow] = []
    started = time.monotonic()
    for row in rows:
        chunk.append(row)
        if len(chunk) >= CHUNK or time.monotonic() - started > FLUSH_SECONDS:
            yield chunk
            chunk, started = [], time.monotonic()
    if chunk:
        yield chunk


def _source_root(
    store: Store, path: Path, dataset: str | None, limits: Limits
) -> tuple[Path, list[Any]]:
    """A folder to discover in: the path itself, or a safe extraction of an archive."""
    if not path.exists():
        raise DataError(f"{path}: no such file or folder")
    if _is_archive(path):
        # The name becomes a folder under sources/: a plain name only, so nothing lands
        # outside the store (`--dataset ../../x`, an absolute path, an empty stem).
        name = _plain_name(dataset, path.name.split(".")[0])
        target = store.sources_dir / name
        problems = safe_extract(
            path, target, limits.max_member_bytes, limits.max_total_bytes, limits.max_ratio
        )
        return target, list(problems)
    if not path.is_dir():
        raise DataError(f"{path}: not a folder or a tar archive")
    return path, []


def _plain_name(given: str | None, derived: str) -> str:
    """The given dataset name, or one derived from the path, checked as a plain name."""
    if given is not None:
        return check_dataset_name(given)
    try:
        return check_dataset_name(derived)
    except UsageError as exc:
        raise UsageError(f"{exc}; derived from the path: name the dataset with --dataset") from None


def prepare_synthetic(
    store: Store,
    reporter: Reporter,
    clips_per_class: int = 20,
    seconds: float = 10.0,
    seed: int = 0,
) -> Path:
    target = store.sources_dir / "synthetic"
    synthetic.write_dataset(
        target, clips_per_class=clips_per_class, seconds=seconds, seed=seed, reporter=reporter
    )
    return target


def ingest(
    store: Store,
    path: Path | None,
    dataset: str | None = None,
    force: bool = False,
    reporter: Reporter | None = None,
    workers: int = 2,
    spectrogram: SpectrogramConfig | None = None,
    limits: Limits | None = None,
    source: SourceOptions | None = None,
) -> IngestSummary:
    reporter = reporter or NullReporter()
    started = time.monotonic()
    if dataset is not None:
        check_dataset_name(dataset)  # before anything is extracted or written
    found, extract_problems, name, root = _find(
        store, path, dataset, source or SourceOptions(), limits or Limits()
    )
    where = path if path is not None else (source or SourceOptions()).manifest
    summary = IngestSummary(dataset=name, kind=found.kind, root=str(root.resolve()))
    problems = [(p.path, p.reason) for p in [*extract_problems, *found.problems]]
    summary.problems = [{"path": p, "reason": r} for p, r in problems]
    summary.found = len(found.files)
    if not found.files and not problems:
        raise DataError(f"{where}: no audio files found (expected <label>/<audio file>)")

    with store.connect() as con:
        t.upsert_dataset(con, name, found.kind, summary.root)
        t.replace_problems(con, name, problems)
        replace_source_split(con, name, found.splits)
        known = {} if force else t.known_tracks(con, name)
        for revived in _reconcile(con, name, found.files, summary):
            known.pop(revived, None)  # listed again: examine it afresh
    todo = [f for f in found.files if known.get(f.track_id, ("", ""))[0] != str(f.path)]
    summary.skipped = len(found.files) - len(todo)
    _run(store, name, found.kind, todo, reporter, workers, spectrogram or SpectrogramConfig())
    summary.new = len(todo)
    _summarise(store, summary)
    summary.wall_s = round(time.monotonic() - started, 3)
    if summary.ok == 0:
        raise DataError(
            f"{where}: nothing usable was ingested ({summary.failed} files failed, "
            f"{len(problems)} problems); see `percmusic status --errors`"
        )
    return summary


STALE_REASON = "no longer in the source listing (a row from an earlier ingest)"


def _reconcile(con: t.Con, name: str, files: list[SourceFile], summary: IngestSummary) -> list[str]:
    """A corrected source wins over what an earlier ingest stored: changed labels are
    updated, and tracks it no longer lists are marked unusable with a reason (kept as
    rows, so `status --errors` reports them and nothing derived from them breaks)."""
    stored = t.track_labels(con, name)
    listed = {f.track_id: f.label for f in files}
    changed = {tid: lab for tid, lab in listed.items() if tid in stored and stored[tid][0] != lab}
    t.relabel_tracks(con, name, changed)
    summary.relabelled = len(changed)
    summary.stale = sorted(set(stored) - set(listed))
    t.fail_tracks(con, name, dict.fromkeys(summary.stale, STALE_REASON))
    return [tid for tid in listed if tid in stored and stored[tid][1] == STALE_REASON]


@dataclass(frozen=True)
class SourceOptions:
    """How to read a dataset that is not a label-folder tree."""

    manifest: Path | None = None  # a CSV / JSONL of path,label[,split][,track_id]
    label_column: str = "label"
    subset: str | None = None  # FMA: small | medium | large | full (default: the one present)


def _find(
    store: Store, path: Path | None, dataset: str | None, source: SourceOptions, limits: Limits
) -> tuple[Discovery, list[Any], str, Path]:
    """What to ingest, problems met on the way, the dataset's name and its root folder."""
    if source.manifest is not None:
        if path is not None:
            raise UsageError("give either a PATH or --manifest FILE, not both")
        found = read_manifest(source.manifest, source.label_column)
        return found, [], _plain_name(dataset, source.manifest.stem), found.root
    if path is None:
        raise UsageError("give a PATH to ingest, or --manifest FILE")
    if source.label_column != "label":
        raise UsageError("--label-column applies to --manifest only")
    if path.is_dir() and fma.is_fma_root(path):
        found = fma.discover_fma(path, source.subset)
        return found, [], _plain_name(dataset, found.root.name), path
    if source.subset is not None:
        raise UsageError(
            f"--subset applies to an FMA folder; {path} has no fma_metadata/tracks.csv"
        )
    root, extract_problems = _source_root(store, path, dataset, limits)
    found = discover(root)
    name = _plain_name(dataset, "gtzan" if found.kind == "gtzan" else root.resolve().name)
    return found, extract_problems, name, root


def _run(
    store: Store,
    name: str,
    kind: str,
    todo: list[SourceFile],
    reporter: Reporter,
    workers: int,
    spectrogram: SpectrogramConfig,
) -> None:
    task = reporter.task(f"ingest {name}", total=len(todo), unit="files")
    done = 0
    try:
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            results = pool.map(lambda f: _examine(name, kind, f, spectrogram.sample_rate), todo)
            for chunk in _chunks(iter(results)):
                with store.connect() as con:
                    t.write_tracks(con, chunk)
                task.advance(len(chunk))
                done += len(chunk)
                reporter.kept(f"{done} of {len(todo)} files ingested and kept")
    finally:
        task.close()


def _summarise(store: Store, summary: IngestSummary) -> None:
    with store.connect(read_only=True) as con:
        rows = t.tracks(con, summary.dataset)
    summary.ok = sum(r.status == "ok" for r in rows)
    summary.failed = sum(r.status != "ok" for r in rows)
    summary.failures = [
        {"path": r.path, "reason": r.error or "error"} for r in rows if r.status != "ok"
    ]
    counts: dict[str, int] = {}
    for r in rows:
        if r.md5_status:
            counts[r.md5_status] = counts.get(r.md5_status, 0) + 1
    summary.md5 = counts
