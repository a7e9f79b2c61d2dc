"""An output folder the user names (`figures --out`): made if missing, refused in one line
when it is a file, a device, too long a name, or not writable."""

from __future__ import annotations

import errno
import os
from pathlib import Path

from percmusic_cli.errors import DataError, UsageError
from percmusic_cli.render.safe import shown


def prepare(path: Path, option: str = "--out") -> Path:
    """`path` as an existing, writable folder; UsageError (exit 1) for a path that cannot
    be a folder, DataError (exit 2) for one the system will not let us write."""
    where = f"{option} {shown(path)}"
    try:  # even asking whether it exists fails for a name that is too long
        if path.exists() and not path.is_dir():
            raise UsageError(f"{where} is a file, not a folder: name a folder for the figures")
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _refused(where, exc) from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise DataError(f"{where} is not writable: choose another folder")
    return path


def _refused(where: str, exc: OSError) -> UsageError | DataError:
    reason = exc.strerror or type(exc).__name__
    if exc.errno in (errno.ENAMETOOLONG, errno.ENOTDIR, errno.EEXIST):
        return UsageError(f"{where}: {reason}")  # the name itself cannot be a folder
    return DataError(f"{where}: cannot make the folder: {reason}")


def write_failed(path: Path, exc: OSError, option: str = "--out") -> UsageError | DataError:
    """The one-line error for a write into `path` that the system refused."""
    return _refused(f"{option} {shown(path)}", exc)
