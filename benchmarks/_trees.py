"""For benchmarks that run a past commit of this repository beside this tree, alternating:
the commit checked out, and the CPU time of the child processes that ran them."""

from __future__ import annotations

import argparse
import contextlib
import resource
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GIT = ("git", "-C", str(ROOT))


def commit(rev: str) -> str:
    """`--rev`'s type: a commit of this repository, else argparse's one-line error."""
    found = subprocess.run(
        [*GIT, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], capture_output=True
    )
    if found.returncode != 0:
        raise argparse.ArgumentTypeError(f"{rev!r}: not a commit of this repository")
    return rev


def rounds(text: str) -> int:
    """`--rounds`'s type: 1 or more."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text}: expected 1 or more")
    return value


def comparison_parser(description: str, rev: str, rounds_default: int) -> argparse.ArgumentParser:
    """The options every past-commit comparison takes: `--rev` (the past commit, default
    `rev`) and `--rounds` (how many alternated rounds); a script adds its own."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--rev",
        type=commit,
        default=rev,
        help="the past commit to compare with (default %(default)s)",
    )
    parser.add_argument("--rounds", type=rounds, default=rounds_default)
    return parser


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
