"""Array files: written atomically, recorded with shape/dtype/sha256, verified on load.

Nothing is loaded with pickle. A missing or altered file raises ArrayIntegrityError;
it is never silently recomputed over."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np

from percmusic_cli.errors import ArrayIntegrityError, StoreError
from percmusic_cli.hashing import file_digest

TMP_PREFIX = ".tmp-"


def _read_umask() -> int:
    # os.umask can only be read by setting it; done once, at import, before any threads.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


UMASK = _read_umask()
FILE_MODE = 0o666 & ~UMASK  # what open() would give: a group can share a store
DIR_MODE = 0o777 & ~UMASK


@dataclass(frozen=True)
class ArrayRecord:
    path: str  # relative to the store root
    kind: str
    shape: tuple[int, ...]
    dtype: str
    sha256: str
    nbytes: int

    @property
    def shape_json(self) -> str:
        return json.dumps(list(self.shape))


def sha256_file(path: Path) -> str:
    return file_digest(path, "sha256")


@contextlib.contextmanager
def atomic_file(target: Path) -> Iterator[IO[bytes]]:
    """Write to a temporary name in the same folder, fsync, rename over `target`."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX, dir=target.parent)
    try:
        os.fchmod(fd, FILE_MODE)  # mkstemp makes 0600; follow the umask like other files
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def inside(root: Path, rel_path: str) -> Path:
    """root/rel_path, refused (StoreError) when it would resolve outside the store: names
    in paths come from plugins, manifests and caches, and are checked where they enter,
    but a name that slips through must still not write elsewhere."""
    # Lexical, not resolved: a folder the user links elsewhere (arrays/ on a bigger disk)
    # is the user's choice; a name that climbs out with .. or is absolute is not.
    norm = os.path.normpath(rel_path)
    if os.path.isabs(rel_path) or norm in (".", "..") or norm.startswith(".." + os.sep):
        raise StoreError(f"refusing the path {rel_path!r}: it is outside the store {root}")
    return root / rel_path


def write_array(root: Path, rel_path: str, array: np.ndarray, kind: str) -> ArrayRecord:
    """Save `array` as .npy at root/rel_path atomically and return its record."""
    target = inside(root, rel_path)
    try:
        with atomic_file(target) as fh:
            np.save(fh, np.ascontiguousarray(array), allow_pickle=False)
    except OSError as exc:
        raise StoreError(f"cannot write {target}: {exc.strerror or exc}") from exc
    return ArrayRecord(
        path=rel_path,
        kind=kind,
        shape=tuple(int(s) for s in array.shape),
        dtype=str(array.dtype),
        sha256=sha256_file(target),
        nbytes=target.stat().st_size,
    )


def verify_file(root: Path, record: ArrayRecord) -> None:
    """Raise ArrayIntegrityError if the file is missing or its bytes changed."""
    target = root / record.path
    if not target.is_file():
        raise ArrayIntegrityError(f"array file {target} is missing (run `percmusic check`)")
    if target.stat().st_size != record.nbytes or sha256_file(target) != record.sha256:
        raise ArrayIntegrityError(
            f"array file {target} was altered: its sha256 no longer matches the store "
            "(run `percmusic check --repair`)"
        )


def read_array(root: Path, record: ArrayRecord, mmap: bool = False) -> np.ndarray:
    verify_file(root, record)
    target = root / record.path
    try:
        array = np.load(target, allow_pickle=False, mmap_mode="r" if mmap else None)
    except (ValueError, OSError) as exc:
        raise ArrayIntegrityError(f"array file {target} is unreadable: {exc}") from exc
    if tuple(array.shape) != record.shape or str(array.dtype) != record.dtype:
        raise ArrayIntegrityError(
            f"array file {target} holds {array.dtype}{list(array.shape)}, "
            f"the store recorded {record.dtype}{list(record.shape)}"
        )
    return np.asarray(array)


def nonfinite_rows(images: np.ndarray, block: int = 64) -> np.ndarray:
    """Indices of the images holding NaN or infinity (checked a block at a time, so a
    memory-mapped array is never copied whole)."""
    found = []
    for start in range(0, len(images), block):
        chunk = np.asarray(images[start : start + block])
        ok = np.isfinite(chunk.reshape(len(chunk), -1)).all(axis=1)
        found.append(start + np.flatnonzero(~ok))
    return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)


# Parts: resumable pieces of one array (feature chunks, distance tiles). They live in a
# `<name>.parts/` folder beside the final file, are written atomically one by one, and
# are removed once the assembled array has been recorded.


def parts_dir(root: Path, rel_path: str) -> Path:
    return inside(root, rel_path + ".parts")


def _part_paths(root: Path, rel_path: str, key: str) -> tuple[Path, Path]:
    folder = parts_dir(root, rel_path)
    return folder / f"{key}.npz", folder / f"{key}.sha256"


def write_part(root: Path, rel_path: str, key: str, arrays: dict[str, np.ndarray]) -> None:
    """Write the part, then its checksum beside it: a part without one (a kill between
    the two) or with a different one is not used."""
    target, checksum = _part_paths(root, rel_path, key)
    try:
        with atomic_file(target) as fh:
            np.savez(fh, allow_pickle=False, **arrays)
        with atomic_file(checksum) as fh:
            fh.write(sha256_file(target).encode())
    except OSError as exc:
        raise StoreError(f"cannot write {target}: {exc.strerror or exc}") from exc


def part_problem(root: Path, rel_path: str, key: str) -> str | None:
    """Why the part `key` cannot be used (None when it is sound or absent)."""
    target, checksum = _part_paths(root, rel_path, key)
    if not target.is_file():
        return None
    try:
        recorded = checksum.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return "it has no checksum (written by an interrupted run)"
    if sha256_file(target) != recorded:
        return "its sha256 differs from the one written with it (damaged)"
    return None


def discard_part(root: Path, rel_path: str, key: str) -> None:
    for path in _part_paths(root, rel_path, key):
        path.unlink(missing_ok=True)


def has_part(root: Path, rel_path: str, key: str) -> bool:
    """True when the part exists and matches its checksum; a damaged one is discarded."""
    target, _ = _part_paths(root, rel_path, key)
    if not target.is_file():
        return False
    if part_problem(root, rel_path, key) is not None:
        discard_part(root, rel_path, key)
        return False
    return True


def read_part(
    root: Path, rel_path: str, key: str, names: tuple[str, ...] | None = None
) -> dict[str, np.ndarray]:
    """The part's arrays, or only `names` (an .npz member is read only when asked for)."""
    target, _ = _part_paths(root, rel_path, key)
    try:
        with np.load(target, allow_pickle=False) as data:
            return {name: data[name] for name in (names or data.files)}
    except (ValueError, OSError, KeyError, zipfile.BadZipFile, EOFError) as exc:
        raise ArrayIntegrityError(
            f"part file {target} is unreadable: {exc} (`percmusic check --repair` removes it)"
        ) from exc


def remove_parts(root: Path, rel_path: str) -> None:
    folder = parts_dir(root, rel_path)
    if not folder.is_dir():
        return
    for child in folder.iterdir():
        child.unlink()
    folder.rmdir()


class _HashingWriter:
    """Writes through to a file while hashing what passes (no second read of the file)."""

    def __init__(self, fh: IO[bytes]) -> None:
        self.fh = fh
        self.sha = hashlib.sha256()
        self.nbytes = 0

    def write(self, data: bytes | memoryview) -> int:
        self.sha.update(data)
        self.nbytes += len(data)
        return self.fh.write(data)


def assemble_parts(
    root: Path,
    rel_path: str,
    keys: list[str],
    name: str,
    shape: tuple[int, ...],
    dtype: np.dtype,
    kind: str,
) -> ArrayRecord:
    """Concatenate array `name` of each part (along axis 0) into one .npy, streaming: the
    whole array is never in memory, and its sha256 is taken as it is written."""
    target = inside(root, rel_path)
    header = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": shape}
    try:
        with atomic_file(target) as fh:
            out = _HashingWriter(fh)
            np.lib.format.write_array_header_1_0(out, header)
            rows = 0
            for key in keys:
                part = np.ascontiguousarray(
                    read_part(root, rel_path, key, (name,))[name], dtype=dtype
                )
                if tuple(part.shape[1:]) != tuple(shape[1:]):
                    raise ArrayIntegrityError(
                        f"part {key} of {target} holds rows of shape {list(part.shape[1:])}, "
                        f"expected {list(shape[1:])} (`percmusic check --repair` removes it)"
                    )
                rows += part.shape[0]
                out.write(part.tobytes())
    except OSError as exc:
        raise StoreError(f"cannot write {target}: {exc.strerror or exc}") from exc
    if rows != shape[0]:
        target.unlink(missing_ok=True)
        raise ArrayIntegrityError(f"parts of {target} hold {rows} rows, expected {shape[0]}")
    return ArrayRecord(
        rel_path, kind, tuple(shape), str(np.dtype(dtype)), out.sha.hexdigest(), out.nbytes
    )
