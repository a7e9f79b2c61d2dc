"""Stable content hashes for parameters and inputs: the keys of every derived artefact."""

from __future__ import annotations

import dataclasses
import hashlib
import json
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
    h = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()
