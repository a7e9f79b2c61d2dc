"""A `Session`: the store, the reporter, the memory budget and the executor backend of one
caller (a CLI command, the dashboard, a script), passed down api -> steps -> execution.

Nothing here is process-wide: two sessions in one process (a dashboard thread and a
script) each keep their own budget, backend and record of what was kept."""

from __future__ import annotations

import concurrent.futures as cf
import threading
from dataclasses import dataclass, field, replace

from percmusic_cli.execution import memory
from percmusic_cli.execution.backends import Backend, LocalBackend
from percmusic_cli.progress import NullReporter, Reporter, Task
from percmusic_cli.store import Store


class KeptLog:
    """What the running command has made durable so far, for the one line an interrupt
    prints ("checkpoint at step 200 of 1500 kept"); steps overwrite it as they go."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: str | None = None

    def record(self, message: str) -> None:
        with self._lock:
            self._last = message

    def last(self) -> str | None:
        return self._last

    def forget(self) -> None:
        with self._lock:
            self._last = None


class SessionReporter:
    """A reporter whose `kept` lines land in the session's `KeptLog`."""

    def __init__(self, inner: Reporter, log: KeptLog) -> None:
        self.inner, self.kept_log = inner, log

    def task(self, description: str, total: int | None, unit: str = "items") -> Task:
        return self.inner.task(description, total, unit)

    def log(self, message: str) -> None:
        self.inner.log(message)

    def kept(self, message: str) -> None:
        self.kept_log.record(message)
        self.inner.kept(message)


@dataclass
class Session:
    """One caller's store, reporter, memory budget (bytes) and executor backend."""

    store: Store
    reporter: Reporter = field(default_factory=NullReporter)
    budget: int = memory.DEFAULT
    backend: Backend = field(default_factory=LocalBackend)
    kept_log: KeptLog = field(default_factory=KeptLog)

    def __post_init__(self) -> None:
        if not isinstance(self.reporter, SessionReporter):
            self.reporter = SessionReporter(self.reporter, self.kept_log)

    @property
    def executor(self) -> cf.Executor:
        return self.backend.executor()

    def with_reporter(self, reporter: Reporter | None) -> Session:
        """The same session reporting to `reporter` (None: unchanged); kept lines still
        land in this session's log."""
        if reporter is None or reporter is self.reporter:
            return self
        return replace(self, reporter=SessionReporter(reporter, self.kept_log))

    def last_kept(self) -> str | None:
        return self.kept_log.last()

    def forget_kept(self) -> None:
        self.kept_log.forget()

    def close(self) -> None:
        """Stop the workers this session started (a LocalCluster, Slurm jobs)."""
        self.backend.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def as_session(value: Session | Store, reporter: Reporter | None = None) -> Session:
    """A session from a session or a bare store (local executor, null reporter, default
    budget), reporting to `reporter` when one is given."""
    session = value if isinstance(value, Session) else Session(value)
    return session.with_reporter(reporter)
