"""Safe extraction of tar archives (GTZAN's `genres.tar.gz`, or a user's own).

Only regular files and folders are extracted. Absolute names, ".." components,
links, devices, fifos and members over the size limits are skipped and reported as
`Problem`s. Each file is written to a temporary name in its final folder and renamed
into place, so an interrupted extraction never leaves a half file under the real name;
a rerun skips files already there with identical content. Python's tarfile "data"
filter is consulted too, but the checks here do not depend on it.
"""

from __future__ import annotations

import os
import shutil
import tarfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from percmusic_cli.datasets.folder import Problem
from percmusic_cli.errors import DataError

MB = 1 << 20
TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")
_CHUNK = 1 << 20
# The expansion ratio is judged only past this many bytes: a small archive of silence
# compresses far better than music without being a bomb.
_RATIO_FLOOR = 64 * MB
_FREE_MARGIN = 64 * MB  # left free on the disk, for the database and arrays
_MAGIC = ((b"\x1f\x8b", "gzip"), (b"BZh", "bzip2"), (b"\xfd7zXZ\x00", "xz"))


@dataclass(frozen=True)
class Limits:
    """What one archive may expand to; `ingest --archive-max-mb/--archive-max-ratio`."""

    max_member_bytes: int = 200 * MB
    max_total_bytes: int = 4096 * MB
    max_ratio: float = 50.0  # extracted bytes per compressed byte


def is_archive(path: Path) -> bool:
    name = Path(path).name.lower()
    return Path(path).is_file() and name.endswith(TAR_SUFFIXES)


def safe_extract(
    archive: Path,
    target: Path,
    max_member_bytes: int = Limits.max_member_bytes,
    max_total_bytes: int = Limits.max_total_bytes,
    max_ratio: float = Limits.max_ratio,
) -> list[Problem]:
    """Extract `archive` under `target`; returns what was skipped, one line each. Raises
    DataError when the archive is unreadable from the start, when the disk lacks room, or
    when the total or the expansion ratio passes its limit (what was extracted stays)."""
    target = Path(target)
    target.mkdir(parents=True, exist_ok=True)
    root = os.path.realpath(target)
    size = Path(archive).stat().st_size
    _check_room(archive, root, size)
    problems: list[Problem] = []
    try:
        tar = tarfile.open(archive, mode="r:*")  # noqa: SIM115 (closed by the with below)
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise DataError(
            f"{archive}: not a readable tar archive: {_not_a_tar(archive, size)}"
        ) from exc
    limits = Limits(max_member_bytes, max_total_bytes, max_ratio)
    with tar:
        try:
            _extract_all(tar, root, limits, size, problems, archive)
        except (tarfile.TarError, OSError, EOFError, ValueError) as exc:
            # A truncated or corrupt archive: what was completed stays, the rest is reported.
            reason = " ".join(str(exc).split()) or type(exc).__name__
            problems.append(Problem(str(archive), f"archive unreadable past this point: {reason}"))
    return problems


def _not_a_tar(archive: Path, size: int) -> str:
    if size == 0:
        return "empty file (0 bytes)"
    with open(archive, "rb") as fh:
        head = fh.read(8)
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return f"{kind}-compressed, but no readable tar archive inside"
    return "neither plain tar nor gzip, bzip2 or xz compressed"


def _check_room(archive: Path, root: str, size: int) -> None:
    """An archive expands to at least its own size: refuse before writing anything."""
    free = shutil.disk_usage(root).free
    if size + _FREE_MARGIN > free:
        raise DataError(
            f"{archive}: not enough free disk space to extract it under {root}: "
            f"{free // MB} MB free, the archive alone is {size // MB} MB"
        )


def _check_ratio(archive: Path, expanded: int, size: int, lim: Limits) -> None:
    """`expanded`: the bytes extracted so far plus the next member's (skipped members are
    not counted: a header may declare any size with nothing behind it)."""
    if expanded > _RATIO_FLOOR and expanded > lim.max_ratio * max(size, 1):
        raise DataError(
            f"{archive}: extraction stopped: it expands to {expanded / max(size, 1):.0f} times "
            f"its compressed size (limit {lim.max_ratio:g}; a decompression bomb? raise "
            "--archive-max-ratio if this is expected)"
        )


def _check_room_for(archive: Path, root: str, total: int, next_size: int, lim: Limits) -> None:
    if total + next_size > lim.max_total_bytes:
        raise DataError(
            f"{archive}: extraction stopped: it would expand past {lim.max_total_bytes // MB} MB "
            "(raise --archive-max-mb if this is expected)"
        )
    if next_size + _FREE_MARGIN > shutil.disk_usage(root).free:
        raise DataError(
            f"{archive}: extraction stopped: not enough free disk space under {root} "
            f"for the next {max(next_size // MB, 1)} MB"
        )


def _extract_all(
    tar: tarfile.TarFile,
    root: str,
    limits: Limits,
    size: int,
    problems: list[Problem],
    archive: Path,
) -> None:
    total = 0
    seen: set[str] = set()
    for member in tar:
        reason = _member_problem(member, root, limits.max_member_bytes, seen)
        if reason is not None:
            problems.append(Problem(member.name, reason))
            continue
        dest = os.path.join(root, *PurePosixPath(_normal(member.name)).parts)
        if member.isfile():
            _check_ratio(archive, total + member.size, size, limits)
            _check_room_for(archive, root, total, member.size, limits)
        try:
            if member.isdir():
                os.makedirs(dest, exist_ok=True)
            else:
                _extract_file(tar, member, dest)
        except (FileExistsError, NotADirectoryError, IsADirectoryError):
            problems.append(Problem(member.name, "skipped: a file and a folder share this name"))
            continue
        seen.add(_normal(member.name))
        total += member.size if member.isfile() else 0


def _normal(name: str) -> str:
    parts = [p for p in PurePosixPath(name.replace("\\", "/")).parts if p not in ("", ".")]
    return "/".join(parts)


def _member_problem(
    member: tarfile.TarInfo, root: str, max_member: int, seen: set[str]
) -> str | None:
    name = member.name.replace("\\", "/")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return "skipped: absolute path"
    if ".." in PurePosixPath(name).parts:
        return "skipped: path contains '..'"
    if member.issym() or member.islnk():
        return "skipped: links are not extracted"
    if not (member.isfile() or member.isdir()):
        return "skipped: not a regular file or folder (device, fifo or other)"
    if not _normal(name):
        return "skipped: empty name"
    if member.isfile() and member.size > max_member:
        return f"skipped: {member.size} bytes is over the {max_member}-byte member limit"
    if member.isfile() and _normal(name) in seen:
        return "skipped: duplicate member name (the first copy was kept)"
    dest = os.path.realpath(os.path.join(root, *PurePosixPath(_normal(name)).parts))
    if os.path.commonpath([root, dest]) != root:
        return "skipped: would land outside the target folder"
    return _data_filter_problem(member, root)


def _data_filter_problem(member: tarfile.TarInfo, root: str) -> str | None:
    data_filter = getattr(tarfile, "data_filter", None)
    if data_filter is None:
        return None
    try:
        data_filter(member, root)
    except tarfile.TarError as exc:
        return f"skipped by tarfile's data filter: {exc}"
    return None


def _extract_file(tar: tarfile.TarFile, member: tarfile.TarInfo, dest: str) -> None:
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    if _same_content(tar, member, dest):
        return
    source = tar.extractfile(member)
    if source is None:
        raise tarfile.ExtractError(f"{member.name}: no data")
    tmp = os.path.join(os.path.dirname(dest), f".{os.path.basename(dest)}.partial-{os.getpid()}")
    try:
        with source, open(tmp, "wb") as out:
            _copy(source, out, member.size)
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _copy(source: IO[bytes], out: IO[bytes], size: int) -> None:
    written = 0
    while block := source.read(_CHUNK):
        written += len(block)
        if written > size:
            raise tarfile.ExtractError("member holds more data than its header says")
        out.write(block)
    if written != size:
        raise tarfile.ExtractError(f"member truncated: {written} of {size} bytes")


def _same_content(tar: tarfile.TarFile, member: tarfile.TarInfo, dest: str) -> bool:
    """True when `dest` is a regular file identical to the member (idempotent reruns)."""
    if os.path.islink(dest) or not os.path.isfile(dest) or os.path.getsize(dest) != member.size:
        return False
    source = tar.extractfile(member)
    if source is None:
        return False
    with source, open(dest, "rb") as have:
        while block := source.read(_CHUNK):
            if have.read(len(block)) != block:
                return False
    return True
