"""Resource limits met mid-command (`ulimit -v`, a full machine): one line naming the
step, not an internal error. Allocation failures arrive as MemoryError (Python, numpy)
or as another exception whose message says so (torch, DuckDB, thread creation), and
which one differs from run to run, so every form is recognised here."""

from __future__ import annotations

import errno
from collections.abc import Sequence

_PHRASES = (
    "can't allocate memory",
    "cannot allocate memory",
    "not enough memory",
    "out of memory",
    "unable to allocate",
    "failed to allocate",
    "bad_alloc",
    "can't start new thread",
    "resource temporarily unavailable",
    "failed to map segment",  # a shared library cannot be loaded under `ulimit -v`
)


def out_of_memory(exc: BaseException) -> bool:
    """Whether `exc`, or an exception it was raised from, is an allocation failure."""
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 8:
        if isinstance(current, MemoryError):
            return True
        if isinstance(current, OSError) and current.errno in (errno.ENOMEM, errno.EAGAIN):
            return True
        if any(p in str(current).lower() for p in _PHRASES):
            return True
        current, seen = current.__cause__ or current.__context__, seen + 1
    return False


def step_name(argv: Sequence[str], commands: Sequence[str]) -> str:
    """The command the arguments ran (`distances stats`, `knn`), for the message."""
    words = [a for a in argv if not a.startswith("-")]
    for i, word in enumerate(words):
        if word in commands:
            following = words[i + 1] if i + 1 < len(words) else ""
            return f"{word} {following}" if following in ("stats",) else word
    return "percmusic"


def memory_line(step: str) -> str:
    return (
        f"out of memory in `{step}`: the machine or its limit (ulimit -v) left too little; "
        "lower --memory, use fewer workers, or free memory, then rerun (finished work is kept)"
    )
