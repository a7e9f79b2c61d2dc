"""The Free Music Archive's own layout (Defferrard et al. 2017):

    <root>/fma_metadata/tracks.csv       three header rows: ("track", "genre_top"),
                                          ("set", "subset"), ("set", "split"), ... then
                                          "track_id" alone on the third row
    <root>/fma_small/000/000002.mp3      fma_<subset>/<first 3 digits>/<6-digit id>.mp3

The label is `track.genre_top`, the track id the file name's six digits, the declared
split `set.split` (training / validation / test). Subsets nest (small within medium
within large; full holds the same tracks as large, untrimmed), and tracks.csv records
the smallest subset a track belongs to, so `--subset medium` takes small and medium rows.

Like every discovery, this never decodes and never raises for one bad row: a track
without a genre_top, or without its audio file, becomes a `Problem` with its reason.
"""

from __future__ import annotations

import csv
import os
import re
import stat
from pathlib import Path

from percmusic_cli.datasets.folder import Discovery, Problem, SourceFile
from percmusic_cli.datasets.manifest import SPLIT_VALUES
from percmusic_cli.errors import DataError, UsageError

SUBSETS = ("small", "medium", "large", "full")
_RANK = {"small": 0, "medium": 1, "large": 2, "full": 2}
TRACKS_CSV = ("fma_metadata", "tracks.csv")
_COLUMNS = ("track.genre_top", "set.subset", "set.split")
_ID = re.compile(r"[0-9]{1,6}")  # ASCII digits only: int() also reads "²" and "٣"


def is_fma_root(root: Path) -> bool:
    return Path(root).joinpath(*TRACKS_CSV).is_file()


def choose_subset(root: Path, subset: str | None) -> str:
    """`subset` checked, or the one whose audio folder is present."""
    if subset is not None:
        if subset not in SUBSETS:
            raise UsageError(f"--subset {subset!r}: choose one of {', '.join(SUBSETS)}")
        if not (root / f"fma_{subset}").is_dir():
            raise DataError(f"{root / f'fma_{subset}'}: no such folder (FMA audio of --subset)")
        return subset
    present = [s for s in SUBSETS if (root / f"fma_{s}").is_dir()]
    if not present:
        raise DataError(
            f"{root}: FMA metadata but no audio folder (fma_small, fma_medium, fma_large, "
            "fma_full) beside it"
        )
    if len(present) > 1:
        raise UsageError(
            f"{root}: several FMA audio folders ({', '.join(f'fma_{s}' for s in present)}); "
            "choose one with --subset"
        )
    return present[0]


def discover_fma(root: Path, subset: str | None = None) -> Discovery:
    """What to ingest of the FMA copy at `root` (the folder holding fma_metadata/)."""
    root = Path(root).resolve()
    chosen = choose_subset(root, subset)
    audio = root / f"fma_{chosen}"
    found = Discovery(kind="fma", root=audio)
    listed: dict[str, int] = {}
    rows, found.problems = _rows(root.joinpath(*TRACKS_CSV))
    for line, tid, genre, track_subset, split in rows:
        if tid in listed:
            where = str(audio / tid[:3] / f"{tid}.mp3")
            dup = f"tracks.csv line {line}: duplicate track id {tid} (kept line {listed[tid]})"
            found.problems.append(Problem(where, dup))
            continue
        listed[tid] = line
        if _RANK.get(track_subset, 99) > _RANK[chosen]:
            continue
        file = audio / tid[:3] / f"{tid}.mp3"
        reason = _problem(genre, track_subset, split, file)
        if reason is not None:
            found.problems.append(Problem(str(file), f"tracks.csv line {line}: {reason}"))
            continue
        found.files.append(SourceFile(tid, genre, file, file.relative_to(audio).as_posix()))
        if split:
            found.splits[tid] = SPLIT_VALUES[split]
    found.problems += _unlisted(audio, set(listed))
    return found


def _problem(genre: str, track_subset: str, split: str, file: Path) -> str | None:
    if track_subset not in _RANK:
        return f"unknown set.subset {track_subset!r}"
    if not genre:
        return "no track.genre_top (skipped)"
    if split and split not in SPLIT_VALUES:
        return f"unknown set.split {split!r}"
    return _file_problem(file)


def _file_problem(file: Path) -> str | None:
    """Why `file` is no usable audio file: stat, never open (a FIFO would block)."""
    try:
        mode = file.stat().st_mode
    except FileNotFoundError:
        return "no audio file"
    except (OSError, RuntimeError) as exc:  # an unreadable folder, a symlink loop
        return f"cannot read the audio file ({getattr(exc, 'strerror', None) or exc})"
    return None if stat.S_ISREG(mode) else "not a regular file"


def _rows(tracks_csv: Path) -> tuple[list[tuple[int, str, str, str, str]], list[Problem]]:
    """(line, 6-digit track id, genre_top, subset, split) per data row of tracks.csv, and
    a problem per row whose track id is not a number of at most six ASCII digits."""
    out: list[tuple[int, str, str, str, str]] = []
    problems: list[Problem] = []
    try:
        with open(tracks_csv, newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            where = _columns(tracks_csv, [next(reader, []) for _ in range(3)])
            for row in reader:
                if not any(cell.strip() for cell in row):
                    continue  # a blank line
                tid = row[0].strip()
                if len(row) <= max(where) or not _ID.fullmatch(tid):
                    reason = f"tracks.csv line {reader.line_num}: track id {tid[:40]!a} "
                    reason += "is not a number of at most 6 digits, or the row is cut short"
                    problems.append(Problem(str(tracks_csv), reason))
                    continue
                genre, subset, split = (row[i].strip() for i in where)
                out.append((reader.line_num, f"{int(tid):06d}", genre, subset, split))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"{tracks_csv}: not a readable CSV file ({exc})") from None
    return out, problems


def _columns(tracks_csv: Path, header: list[list[str]]) -> tuple[int, int, int]:
    """Indices of genre_top, subset, split in FMA's three-row header."""
    top, sub, third = header
    names = [f"{a.strip()}.{b.strip()}" for a, b in zip(top, sub, strict=False)]
    if not third or third[0].strip() != "track_id" or not all(c in names for c in _COLUMNS):
        raise DataError(
            f"{tracks_csv}: not FMA's tracks.csv (expected a three-row header with "
            f"{', '.join(_COLUMNS)} and track_id)"
        )
    genre, subset, split = (names.index(c) for c in _COLUMNS)
    return genre, subset, split


def _unlisted(audio: Path, listed: set[str]) -> list[Problem]:
    """Audio files that tracks.csv does not describe: no label to give them."""
    problems = []
    try:
        folders = sorted(p for p in audio.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError as exc:
        return [Problem(str(audio), f"cannot list the folder ({exc.strerror})")]
    for folder in folders:
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            problems.append(Problem(str(folder), f"cannot list the folder ({exc.strerror})"))
            continue
        for entry in entries:
            stem = os.path.splitext(entry.name)[0]
            if entry.name.startswith(".") or (_ID.fullmatch(stem) and f"{int(stem):06d}" in listed):
                continue
            problems.append(Problem(entry.path, "not a track of fma_metadata/tracks.csv"))
    return problems
