"""Memory budget arithmetic: parse a size, bytes of dense blocks, a human-readable size.

The budget itself belongs to a `Session` (`session.budget`); the default is 2 GB."""

from __future__ import annotations

import re

from percmusic_cli.errors import UsageError

DEFAULT = 2 * 1024**3
_UNITS = {"": 1, "B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4}


def parse_size(text: str) -> int:
    """'2GB', '500MB', '1.5 GB' or a byte count; units are binary (1 GB = 2**30 bytes)."""
    m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([KMGT]?B?)\s*", text.upper())
    if not m or float(m.group(1)) <= 0:
        raise UsageError(f"--memory-budget {text!r}: a size such as 2GB or 500MB")
    unit = m.group(2) if m.group(2).endswith("B") or not m.group(2) else m.group(2) + "B"
    return int(float(m.group(1)) * _UNITS[unit])


def budget_bytes(size: str | int | None) -> int:
    """A budget from a size string, a byte count, or None (the default)."""
    if size is None:
        return DEFAULT
    return size if isinstance(size, int) else parse_size(size)


def dense_bytes(shapes: list[tuple[int, int]]) -> int:
    """Bytes of float64 dense blocks of these shapes."""
    return sum(r * c * 8 for r, c in shapes)


def human(nbytes: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if nbytes < 1024 or unit == "GB":
            return f"{nbytes:.1f} {unit}" if unit != "B" else f"{int(nbytes)} B"
        nbytes /= 1024
    return f"{nbytes:.1f} GB"
