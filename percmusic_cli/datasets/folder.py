"""Finding what to ingest under a folder: GTZAN in its usual layouts, or any
`<label>/<audio file>` tree as a generic labelled dataset.

Discovery never decodes and never raises for one bad file: odd entries become
`Problem`s with a one-line reason. Hidden entries (names starting with ".", such as
.DS_Store or macOS "._" shadow files) are skipped silently. Order is deterministic
(sorted by name at every level).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from percmusic_cli.datasets.gtzan import GENRES, TRACK_FILE, track_id_of
from percmusic_cli.errors import DataError

AUDIO_EXTENSIONS = frozenset(
    {".wav", ".wave", ".au", ".snd", ".flac", ".ogg", ".oga", ".mp3", ".aif", ".aiff"}
)
# Where a GTZAN genre folder set may sit below the folder the user names.
GTZAN_CANDIDATES: tuple[tuple[str, ...], ...] = (
    (),
    ("genres",),
    ("Data", "genres_original"),
    ("gtzan_genre", "genres"),
    ("genres_original",),
)


@dataclass(frozen=True)
class SourceFile:
    """One audio file to ingest. `rel_path` is "<label>/<file>" (GTZAN: matches the md5
    index and split files); generic nested files keep their inner folders in it."""

    track_id: str
    label: str
    path: Path
    rel_path: str


@dataclass(frozen=True)
class Problem:
    """Something that will not be ingested, with a one-line reason."""

    path: str
    reason: str

    def __post_init__(self) -> None:
        # A name that is not valid UTF-8 arrives with surrogate escapes, which no text
        # column (or terminal) accepts: keep its bytes visible as \xNN instead.
        printable = os.fsencode(self.path).decode("utf-8", "backslashreplace")
        object.__setattr__(self, "path", printable)


@dataclass
class Discovery:
    kind: str  # "gtzan", "folder", "manifest" or "fma"
    root: Path  # the folder holding the label folders
    files: list[SourceFile] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # track_id -> train | valid | test | excluded, where the source declares its own split
    splits: dict[str, str] = field(default_factory=dict)

    @property
    def labels(self) -> list[str]:
        return sorted({f.label for f in self.files})


def is_audio_name(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in AUDIO_EXTENSIONS


def discover(root: Path) -> Discovery:
    """What to ingest under `root`; raises `DataError` only when `root` is not a folder."""
    root = Path(root)
    if not root.exists():
        raise DataError(f"{root}: no such file or folder")
    if not root.is_dir():
        raise DataError(f"{root}: not a folder (extract an archive first)")
    root = root.resolve()
    gtzan_root = find_gtzan_root(root)
    if gtzan_root is not None:
        return _discover_gtzan(gtzan_root)
    return _discover_folder(root)


def _visible(folder: Path) -> list[os.DirEntry[str]]:
    try:
        entries = [e for e in os.scandir(folder) if not e.name.startswith(".")]
    except OSError:
        return []
    return sorted(entries, key=lambda e: e.name)


def _is_dir(entry: os.DirEntry[str]) -> bool:
    # Symlinked folders are not followed: they could loop or leave the dataset.
    return entry.is_dir(follow_symlinks=False)


def find_gtzan_root(root: Path) -> Path | None:
    """The genre-folder parent when `root` holds GTZAN in a known layout, else None."""
    for parts in GTZAN_CANDIDATES:
        candidate = root.joinpath(*parts)
        if candidate.is_dir() and _looks_like_gtzan(candidate):
            return candidate
    return None


def _looks_like_gtzan(folder: Path) -> bool:
    subdirs = [e for e in _visible(folder) if _is_dir(e)]
    if not subdirs or any(e.name not in GENRES for e in subdirs):
        return False
    return any(
        TRACK_FILE.match(f.name) and f.name.lower().startswith(d.name + ".")
        for d in subdirs
        for f in _visible(Path(d.path))
    )


def _bad_name(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _discover_gtzan(groot: Path) -> Discovery:
    found = Discovery(kind="gtzan", root=groot)
    for genre_dir in (e for e in _visible(groot) if _is_dir(e)):
        candidates = [
            _gtzan_entry(found, genre_dir.name, e) for e in _visible(Path(genre_dir.path))
        ]
        kept = [c for c in candidates if c is not None]
        if not kept:
            found.problems.append(Problem(genre_dir.path, "label folder has no audio files"))
        # A .wav next to an .au of the same track wins: only WAV files can be md5-verified.
        kept.sort(key=lambda s: (s.track_id, not s.rel_path.lower().endswith(".wav"), s.rel_path))
        _add_unique(found, kept)
    return found


def _gtzan_entry(found: Discovery, genre: str, entry: os.DirEntry[str]) -> SourceFile | None:
    reason = _entry_problem(entry)
    track = track_id_of(entry.name)
    if reason is None and track is None:
        reason = "not a GTZAN track name (<genre>.NNNNN.wav|au)"
    if reason is None and track is not None and not track.startswith(genre + "."):
        reason = f"file name says {track.split('.')[0]!r} but it sits in folder {genre!r}"
    if reason is not None or track is None:
        found.problems.append(Problem(entry.path, reason or "unreadable entry"))
        return None
    return SourceFile(track, genre, Path(entry.path), f"{genre}/{entry.name}")


def _entry_problem(entry: os.DirEntry[str]) -> str | None:
    if _bad_name(entry.name):
        return "file name is not valid UTF-8"
    if _is_dir(entry):
        return "unexpected folder inside a label folder"
    if not entry.is_file():
        return "not a regular file"
    if not is_audio_name(entry.name):
        ext = os.path.splitext(entry.name)[1] or "no extension"
        return f"not an audio file ({ext})"
    return None


def _add_unique(found: Discovery, files: list[SourceFile]) -> None:
    seen = {f.track_id: f.rel_path for f in found.files}
    for source in files:
        if source.track_id in seen:
            reason = f"duplicate track id {source.track_id!r} (kept {seen[source.track_id]})"
            found.problems.append(Problem(str(source.path), reason))
            continue
        seen[source.track_id] = source.rel_path
        found.files.append(source)


def _discover_folder(root: Path) -> Discovery:
    found = Discovery(kind="folder", root=root)
    for entry in _visible(root):
        if _bad_name(entry.name):
            found.problems.append(Problem(entry.path, "folder name is not valid UTF-8"))
        elif _is_dir(entry):
            files = _label_files(found, entry.name, Path(entry.path))
            if not files:
                found.problems.append(Problem(entry.path, "label folder has no audio files"))
            _add_unique(found, files)
        else:
            found.problems.append(Problem(entry.path, "not inside a label folder"))
    if not found.files and not found.problems:
        found.problems.append(Problem(str(root), "no label folders with audio files found"))
    return found


def _label_files(found: Discovery, label: str, folder: Path) -> list[SourceFile]:
    files: list[SourceFile] = []
    for entry in _visible(folder):
        if _is_dir(entry) and not _bad_name(entry.name):
            files.extend(_label_files(found, label, Path(entry.path)))
            continue
        reason = _entry_problem(entry)
        if reason is not None:
            found.problems.append(Problem(entry.path, reason))
            continue
        inner = Path(entry.path).relative_to(found.root).as_posix()
        track = os.path.splitext(inner)[0]
        files.append(SourceFile(track, label, Path(entry.path), inner))
    return files
