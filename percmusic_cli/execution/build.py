"""Build a `Session` from the values a user gives (a scheduler name, a memory size)."""

from __future__ import annotations

from percmusic_cli.execution import memory
from percmusic_cli.execution.backends import parse
from percmusic_cli.execution.session import Session
from percmusic_cli.progress import NullReporter, Reporter
from percmusic_cli.store import Store


def build_session(
    store: Store,
    reporter: Reporter | None = None,
    scheduler: str | None = "local",
    memory_budget: str | int | None = None,
    workers: int | None = None,
    wait_workers: float = 60.0,
) -> Session:
    budget = memory.budget_bytes(memory_budget)
    backend = parse(scheduler, workers=workers, wait_s=wait_workers)
    return Session(store, reporter or NullReporter(), budget, backend)
