"""Allocation failures in any of their forms become the one out-of-memory line."""

from __future__ import annotations

import errno

import pytest

from percmusic_cli.cli import limits


def _chained(outer: Exception, inner: BaseException) -> Exception:
    try:
        try:
            raise inner
        except BaseException as exc:
            raise outer from exc
    except Exception as caught:
        return caught


@pytest.mark.parametrize(
    "exc",
    [
        MemoryError(),
        RuntimeError("[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: not enough memory"),
        RuntimeError("can't start new thread"),
        OSError(errno.ENOMEM, "Cannot allocate memory"),
        ImportError("/x/_fblas.so: failed to map segment from shared object"),
        _chained(
            OSError("Could not find/load shared object file"), OSError("failed to map segment")
        ),
    ],
)
def test_allocation_failures_are_recognised(exc: BaseException) -> None:
    assert limits.out_of_memory(exc)


@pytest.mark.parametrize("exc", [ValueError("bad value"), OSError(errno.ENOENT, "No such file")])
def test_other_failures_are_not(exc: BaseException) -> None:
    assert not limits.out_of_memory(exc)


def test_step_name_names_the_command_and_its_subcommand() -> None:
    commands = ["distances", "knn", "ingest"]
    assert limits.step_name(["--store", "s", "distances", "stats", "--json"], commands) == (
        "distances stats"
    )
    assert limits.step_name(["knn", "--metric", "mse"], commands) == "knn"
