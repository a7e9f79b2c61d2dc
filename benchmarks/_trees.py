"""For benchmarks that run a past commit of this repository beside this tree, alternating:
the commit checked out, and the CPU time of the child processes that ran them."""

from __future__ import annotations

import contextlib
import resource
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GIT = ("git", "-C", str(ROOT))


def is_commit(rev: str) -> bool:
    found = subprocess.run(
        [*GIT, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], capture_output=True
    )
    return found.returncode == 0


@contextlib.contextmanager
def past_tree(rev: str) -> Iterator[Path]:
    """`rev` checked out with `git worktree` into a temporary folder, removed afterwards."""
    with tempfile.TemporaryDirectory() as tmp:
        past = Path(tmp) / "past"
        subprocess.run([*GIT, "worktree", "add", "-q", "--detach", str(past), rev], check=True)
        try:
            yield past
        finally:
            subprocess.run([*GIT, "worktree", "remove", "--force", str(past)], check=True)


def children_cpu() -> float:
    """User + system seconds of this process's finished children so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime
