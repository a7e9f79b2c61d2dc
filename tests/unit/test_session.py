"""Sessions: two in one process (a thread and the main thread) keep their own store,
reporter, memory budget and record of what was kept; the submit-and-collect helper keeps
task order, reports progress per task, and hands tasks the session's reporter."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from fixture_store import StoreCopies

from percmusic_cli import api
from percmusic_cli.config import DistanceConfig, KnnConfig
from percmusic_cli.execution import Session, run_tasks, task_reporter
from percmusic_cli.progress import NullReporter

both_started = threading.Barrier(2, timeout=60)


def _square(n: int) -> int:
    if n == 1:
        both_started.wait()  # each session has a task running before either goes on
    task_reporter().log(f"task {n}")
    return n * n


def _collect(session: Session, name: str, out: dict[str, Any]) -> None:
    def kept(task: int, result: int) -> None:
        session.reporter.kept(f"{name}: {result} kept")

    out[name] = run_tasks(session, _square, [3, 1, 2], label=f"{name} squares", on_done=kept)


def test_two_sessions_in_one_process_do_not_meet(tmp_path: Path) -> None:
    ra, rb = NullReporter(), NullReporter()
    a = api.session(tmp_path / "a", ra, memory_budget="1MB")
    b = api.session(tmp_path / "b", rb)
    out: dict[str, Any] = {}
    worker = threading.Thread(target=_collect, args=(a, "a", out))
    worker.start()
    _collect(b, "b", out)
    worker.join(60)
    assert out == {"a": [9, 1, 4], "b": [9, 1, 4]}  # the tasks' order, not the finish order
    assert ra.messages == ["task 3", "task 1", "task 2"] == rb.messages
    assert a.last_kept() == "a: 4 kept" and b.last_kept() == "b: 4 kept"
    assert ra.kept_messages == ["a: 9 kept", "a: 1 kept", "a: 4 kept"]
    assert (a.budget, b.budget) == (1024**2, 2 * 1024**3)
    assert (a.store.root, b.store.root) == (tmp_path / "a", tmp_path / "b")


def test_budgets_of_two_sessions_choose_their_own_knn_path(
    tmp_path: Path, store_copies: StoreCopies
) -> None:
    store = store_copies.copy(tmp_path / "store")
    small = api.session(store, memory_budget=64)  # past it: the streamed top-k path
    large = api.session(store)
    cfg, dist = KnnConfig(k_max=3, n_boot=10), DistanceConfig(device="cpu", tile=4)
    got: dict[str, Any] = {}

    def run(name: str, session: Session) -> None:
        (got[name],) = api.knn(session, metric="mse", config=cfg, distance=dist, force=True)

    worker = threading.Thread(target=run, args=("small", small))
    worker.start()
    worker.join(120)  # the store has one writer at a time: one after the other
    run("large", large)
    assert "streamed top-3" in got["small"]["notes"][-1]
    assert got["large"]["notes"][-1].startswith("dense distance blocks")
    for key in ("param", "test_f1", "accuracy"):  # the same neighbours either way
        assert got["small"][key] == got["large"][key]


def test_a_bare_store_runs_in_a_default_local_session(tmp_path: Path) -> None:
    from percmusic_cli.execution import as_session

    session = as_session(api.open_store(tmp_path / "s"))
    assert session.backend.describe() == "local" and session.budget == 2 * 1024**3
    assert run_tasks(session, _double, [1, 2], label=None) == [2, 4]


def _double(n: int) -> int:
    return 2 * n


def test_a_task_error_reaches_the_caller_unchanged(tmp_path: Path) -> None:
    session = api.session(tmp_path / "s")
    with pytest.raises(ZeroDivisionError):
        run_tasks(session, _inverse, [1, 0], label="inverse")


def _inverse(n: int) -> float:
    return 1 / n
