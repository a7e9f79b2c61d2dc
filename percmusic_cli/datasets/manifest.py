"""A manifest: a CSV (or JSONL, by extension) of `path,label[,split][,track_id]` rows.

Paths are relative to the manifest's own folder. Absolute paths, and relative ones that
climb out with "..", are allowed on purpose: the manifest is the user's own file, not an
untrusted archive, and audio often lives elsewhere (shared storage) than its list. Every
path is resolved and must name an existing regular audio file.

Reading never decodes and never raises for one bad row: the row becomes a `Problem`
whose reason names its row number (the line of a JSONL file; for a CSV the header is
row 1, as a spreadsheet shows it). Only a manifest that cannot be read, has no rows, or
lacks a required column raises. Extra columns are ignored. An empty track_id (or none)
is the path without its extension, as written.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TextIO

from percmusic_cli.datasets.folder import Discovery, Problem, SourceFile, is_audio_name
from percmusic_cli.errors import DataError, UsageError

EXTENSIONS = (".csv", ".jsonl", ".ndjson")
# A track's declared part; anything else in a split column makes the row bad.
SPLIT_VALUES = {
    "train": "train",
    "training": "train",
    "valid": "valid",
    "validation": "valid",
    "val": "valid",
    "test": "test",
    "excluded": "excluded",
}
MAX_FIELD = 4096  # no path, label or id is longer; a longer one is a broken row
MAX_LINE = 1 << 20  # characters in one JSONL row: far more than its fields may hold

Row = Mapping[str, str]


def read_manifest(path: Path, label_column: str = "label") -> Discovery:
    """The files, problems and declared split of manifest `path`."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such manifest file")
    if path.suffix.lower() not in EXTENSIONS:
        raise UsageError(f"{path}: a manifest must be a .csv or .jsonl file")
    rows = list(_csv_rows(path) if path.suffix.lower() == ".csv" else _jsonl_rows(path))
    if not rows:
        raise DataError(f"{path}: the manifest has no rows")
    columns = {c for _, row in rows if not isinstance(row, str) for c in row}
    missing = [c for c in ("path", label_column) if c not in columns]
    if missing:
        fma_hint = (
            f"; for FMA run `percmusic ingest {path.resolve().parent.parent}`"
            if path.resolve().parent.name == "fma_metadata"
            else ""
        )
        raise UsageError(
            f"{path}: no {' or '.join(repr(c) for c in missing)} column (has: "
            f"{', '.join(sorted(columns)[:12]) or 'none'}); expected "
            f"path,label[,split][,track_id]{fma_hint}"
        )
    return _listing(path, rows, label_column)


def _listing(path: Path, rows: list[tuple[int, Row | str]], label_column: str) -> Discovery:
    base = path.resolve().parent
    found = Discovery(kind="manifest", root=base)
    seen_ids: dict[str, int] = {}
    seen_files: dict[Path, int] = {}
    for number, row in rows:
        if isinstance(row, str):
            found.problems.append(Problem(f"{path}:{number}", f"row {number}: {row}"))
            continue
        reason, source = _source(row, label_column, base)
        if source is not None and source.track_id in seen_ids:
            kept = seen_ids[source.track_id]
            reason = f"duplicate track id {source.track_id!r} (kept row {kept})"
        elif source is not None and source.path in seen_files:
            reason = f"same file as row {seen_files[source.path]}"
        if reason is not None or source is None:
            where = str(base / row["path"]) if row.get("path") else f"{path}:{number}"
            found.problems.append(Problem(where, f"row {number}: {reason}"))
            continue
        seen_ids[source.track_id] = seen_files[source.path] = number
        found.files.append(source)
        part = row.get("split", "")
        if part:
            found.splits[source.track_id] = SPLIT_VALUES[part.lower()]
    return found


def _source(row: Row, label_column: str, base: Path) -> tuple[str | None, SourceFile | None]:
    """The row's file, or the reason it has none."""
    reason = _row_problem(row, label_column)
    if reason is not None:
        return reason, None
    written = Path(row["path"]).as_posix()
    try:
        file = (base / written).resolve()
        reason = _file_problem(file)
    except (OSError, ValueError, RuntimeError) as exc:
        # a NUL byte, a name too long; a symlink loop (RuntimeError before Python 3.13)
        return f"unusable path ({_first_line(exc)})", None
    if reason is not None:
        return reason, None
    track_id = row.get("track_id") or os.path.splitext(written)[0]
    return None, SourceFile(track_id, row[label_column], file, written)


def _row_problem(row: Row, label_column: str) -> str | None:
    if any(len(v) > MAX_FIELD for v in row.values()):
        return f"a field is longer than {MAX_FIELD} characters"
    for key, value in row.items():
        if not _is_text(key) or not _is_text(value):
            # JSON may escape a lone surrogate ("\ud800"): no UTF-8 form, so no store can hold it
            return f"field {key!a} is not valid Unicode text ({ascii(value)[:40]})"
    if not row.get("path"):
        return "no path"
    if not row.get(label_column):
        return f"no {label_column!r} value"
    part = row.get("split", "")
    if part and part.lower() not in SPLIT_VALUES:
        return f"split {part!r} is not one of train, valid, test, excluded"
    return None


def _is_text(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _file_problem(file: Path) -> str | None:
    if not file.exists():
        return "no such file"
    if not file.is_file():
        return "not a regular file"
    if not is_audio_name(file.name):
        return f"not an audio file ({file.suffix or 'no extension'})"
    return None


def _csv_rows(path: Path) -> Iterator[tuple[int, Row | str]]:
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            reader.fieldnames = [h.strip() for h in reader.fieldnames or []]
            for number, row in enumerate(reader, start=2):
                yield number, {k: (v or "").strip() for k, v in row.items() if k is not None}
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"{path}: not a readable UTF-8 CSV file ({exc})") from None


def _jsonl_rows(path: Path) -> Iterator[tuple[int, Row | str]]:
    try:
        with open(path, encoding="utf-8") as fh:
            for number, line in enumerate(_bounded_lines(fh), start=1):
                if line is None:
                    yield number, f"longer than {MAX_LINE} characters"
                elif line.strip():
                    yield number, _json_object(line)
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not a UTF-8 text file ({exc.reason})") from None


def _bounded_lines(fh: TextIO) -> Iterator[str | None]:
    """Each line, or None for one longer than MAX_LINE (skipped in pieces, never held
    whole: a 1 GB line would otherwise be read into memory at once)."""
    while line := fh.readline(MAX_LINE + 1):
        if len(line) <= MAX_LINE or line.endswith("\n"):
            yield line
            continue
        while (rest := fh.readline(MAX_LINE)) and not rest.endswith("\n"):
            pass
        yield None


def _json_object(line: str) -> Row | str:
    """The line's object as text fields, or why it is none."""
    try:
        value = json.loads(line)
    except (json.JSONDecodeError, RecursionError):  # RecursionError: [[[[... nested deep
        return "not a JSON object"
    if not isinstance(value, dict):
        return "not a JSON object"
    return {str(k): "" if v is None else str(v).strip() for k, v in value.items()}
