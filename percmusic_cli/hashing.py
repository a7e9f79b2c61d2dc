"""Stable content hashes for parameters and inputs: the keys of every derived artefact."""

from __future__ import annotations

import dataclasses
import errno
import hashlib
import json
import os
import stat
from pathlib import Path
from typing import Any


def plain(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {k: plain(v) for k, v in dataclasses.asdict(obj).items()}
    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in sorted(obj.items())}
    if isinstance(obj, list | tuple):
        return [plain(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    return obj


def canonical_json(obj: Any) -> str:
    """JSON with sorted keys and no whitespace, so equal parameters give equal text."""
    return json.dumps(plain(obj), sort_keys=True, separators=(",", ":"))


def param_hash(*parts: Any, length: int = 16) -> str:
    """Hash of any mix of dataclasses, dicts, lists and scalars."""
    digest = hashlib.sha256(canonical_json(list(parts)).encode()).hexdigest()
    return digest[:length]


def file_digest(path: Path, algorithm: str = "sha256", chunk: int = 1 << 20) -> str:
    """The file's hash; an OSError "not a regular file" for a FIFO, a device (a link to
    /dev/zero would never end) or a folder, found before a byte is read."""
    h = hashlib.new(algorithm)
    # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()
