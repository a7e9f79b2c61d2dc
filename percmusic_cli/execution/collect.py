"""The one submit-and-collect loop: every task to the session's executor, results in task
order, progress with ETA as they finish, `on_done` for each (a step records what is kept).

Tasks are pure, picklable callables' arguments; the loop never asks which executor it has.
A local (inline) executor runs a task as it is submitted, so its result is handled at once
and an interrupt finds it recorded. A cluster that loses its scheduler, or has no worker
left for `--wait-workers` seconds (`backend.wait_s`), ends the loop with one line saying
how many tasks were finished and what was kept."""

from __future__ import annotations

import concurrent.futures as cf
import contextvars
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from percmusic_cli.errors import DataError
from percmusic_cli.execution.session import Session
from percmusic_cli.progress import NullReporter, Reporter

T = TypeVar("T")
R = TypeVar("R")

_task_reporter: contextvars.ContextVar[Reporter | None] = contextvars.ContextVar(
    "percmusic_task_reporter", default=None
)
POLL_S = 2.0


def task_reporter() -> Reporter:
    """The reporter a task may use: the session's when the task runs in the submitting
    thread (local), a null one on a remote worker."""
    return _task_reporter.get() or NullReporter()


@contextmanager
def _reporting(reporter: Reporter) -> Iterator[None]:
    token = _task_reporter.set(reporter)
    try:
        yield
    finally:
        _task_reporter.reset(token)


def run_tasks(
    session: Session,
    fn: Callable[[T], R],
    tasks: Sequence[T],
    *,
    label: str | None,
    unit: str = "tasks",
    weight: Callable[[T], int] = lambda _t: 1,
    on_done: Callable[[T, R], None] | None = None,
    resources: dict[str, float] | None = None,
) -> list[R]:
    """`fn(task)` for each task on the session's executor; results in the tasks' order.
    `label` names a progress bar over the tasks' `weight`s (None: the tasks report their
    own progress, and each finished one is a log line)."""
    if not tasks:
        return []
    executor = session.backend.executor(resources)  # workers first: a bad cluster fails here
    bar = (
        session.reporter.task(label, total=sum(weight(t) for t in tasks), unit=unit)
        if label
        else None
    )
    results: dict[int, R] = {}

    def finish(i: int, fut: cf.Future[R]) -> None:
        try:
            results[i] = fut.result()
        except Exception as exc:
            found = _problem(session, exc, len(results), len(tasks))
            if found is exc:
                raise
            raise found from None
        if bar is not None:
            bar.advance(weight(tasks[i]))
        if on_done is not None:
            on_done(tasks[i], results[i])

    pending: dict[cf.Future[R], int] = {}
    try:
        with _reporting(session.reporter):
            for i, t in enumerate(tasks):
                pending[executor.submit(fn, t)] = i
                for fut in [f for f in pending if f.done()]:
                    finish(pending.pop(fut), fut)
        wait = session.backend.wait_s
        _drain(session, pending, finish, len(tasks), lambda: len(results), wait)
        return [results[i] for i in range(len(tasks))]
    except BaseException:
        for fut in pending:
            fut.cancel()
        raise
    finally:
        if bar is not None:
            bar.close()


def _drain(
    session: Session,
    pending: dict[cf.Future[Any], int],
    finish: Callable[[int, cf.Future[Any]], None],
    total: int,
    done: Callable[[], int],
    wait_workers: float,
) -> None:
    """Collect as tasks finish; give up once no worker has been there for `wait_workers`."""
    alone_since: float | None = None
    while pending:
        finished, _ = cf.wait(pending, timeout=POLL_S, return_when=cf.FIRST_COMPLETED)
        for fut in finished:
            finish(pending.pop(fut), fut)
        if finished:
            alone_since = None
            continue
        if session.backend.workers() > 0:
            alone_since = None
        elif alone_since is None:
            alone_since = time.monotonic()
        elif time.monotonic() - alone_since > wait_workers:
            raise DataError(
                f"{session.backend.describe()}: no worker left for {wait_workers:g} s; "
                f"{_kept(session, done(), total)}"
            )


def _problem(session: Session, exc: Exception, done: int, total: int) -> Exception:
    """A cluster failure as one line with what was kept; a task's own error unchanged."""
    found = session.backend.problem(exc)
    if found is None:
        return exc
    return type(found)(f"{found}; {_kept(session, done, total)}")


def _kept(session: Session, done: int, total: int) -> str:
    """How many tasks finished, and what the step recorded as kept, for the one line."""
    what = session.last_kept()
    kept = f"; {what}" if what else ""
    return f"{done} of {total} tasks finished{kept}; rerun the same command to resume"
