"""Source audio files as they are now against what `ingest` recorded.

Features are keyed by each input's md5, so a file replaced after ingest must get its new
md5 before the key is taken. Hashing every file on every run would be slow, so a file is
hashed again only when its size or mtime differ from the recorded ones (`check
--sources` hashes them all)."""

from __future__ import annotations

import dataclasses
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from percmusic_cli.datasets import gtzan
from percmusic_cli.hashing import file_digest
from percmusic_cli.store import Store
from percmusic_cli.store import tables as t


@dataclass
class SourceReport:
    rows: list[t.TrackRow]  # usable rows, with current md5, size and mtime
    changed: list[str] = field(default_factory=list)  # paths whose content changed
    missing: dict[str, str] = field(default_factory=dict)  # track_id -> reason


def _current(row: t.TrackRow, kind: str, rehash: bool) -> t.TrackRow | str:
    """The row updated to the file on disk, or why the file cannot be used."""
    try:
        st = os.stat(row.path)
        if not stat.S_ISREG(st.st_mode):  # a FIFO or a device: never opened, it could hang
            return f"source file {row.path} is not a regular file (replaced after ingest)"
        if (st.st_size, st.st_mtime_ns) == (row.size, row.mtime_ns) and not rehash:
            return row
        md5 = file_digest(Path(row.path), "md5")
    except FileNotFoundError:
        return f"source file {row.path} is gone (deleted or moved after ingest)"
    except OSError as exc:
        return f"source file {row.path} is unreadable: {exc.strerror}"
    status = gtzan.md5_status(row.rel_path, md5) if kind == "gtzan" else row.md5_status
    return dataclasses.replace(
        row, md5=md5, md5_status=status, size=st.st_size, mtime_ns=st.st_mtime_ns
    )


def refresh(
    store: Store, dataset: str, rows: list[t.TrackRow], rehash: bool = False
) -> SourceReport:
    """Re-stat (with `rehash`, re-hash) every row's file; record new md5s, sizes and mtimes;
    mark tracks whose file is gone as failed. Returns the usable rows as they are now."""
    with store.connect(read_only=True) as con:
        kind = t.dataset_kind(con, dataset) or ""
    report = SourceReport(rows=[])
    updated: list[t.TrackRow] = []
    for row in rows:
        now = _current(row, kind, rehash)
        if isinstance(now, str):
            report.missing[row.track_id] = now
            continue
        if now is not row:
            updated.append(now)
            if row.md5 != now.md5:
                report.changed.append(row.path)
        report.rows.append(now)
    if updated or report.missing:
        with store.connect() as con:
            t.write_tracks(con, updated)
            t.fail_tracks(con, dataset, report.missing)
    return report


def verify(store: Store) -> tuple[int, list[tuple[str, str, str]]]:
    """The number of files checked, and (kind, path, detail) for every usable track whose
    file is gone or no longer matches the md5 recorded at ingest (every file is hashed
    again). Writes nothing."""
    with store.connect(read_only=True) as con:
        rows = [r for r in t.all_tracks(con) if r.status == "ok"]
    found: list[tuple[str, str, str]] = []
    for row in rows:
        now = _current(row, "", rehash=True)
        if isinstance(now, str):
            found.append(("source_missing", row.path, f"{row.dataset}/{row.track_id}: {now}"))
        elif now.md5 != row.md5:
            found.append(
                (
                    "source_changed",
                    row.path,
                    f"{row.dataset}/{row.track_id}: content changed since ingest (md5 "
                    f"{row.md5} -> {now.md5}); `percmusic features` picks up the new content",
                )
            )
    return len(rows), found
