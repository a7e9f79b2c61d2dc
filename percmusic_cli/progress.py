"""How long-running core code reports progress without importing any UI library.

The CLI passes a Rich-backed reporter; tests and library users get `NullReporter`.
"""

from __future__ import annotations

from typing import Protocol


class Task(Protocol):
    def advance(self, n: int = 1, info: str | None = None) -> None: ...

    def close(self) -> None: ...


class Reporter(Protocol):
    def task(self, description: str, total: int | None, unit: str = "items") -> Task: ...

    def log(self, message: str) -> None: ...


class _NullTask:
    def advance(self, n: int = 1, info: str | None = None) -> None:
        return None

    def close(self) -> None:
        return None


class NullReporter:
    """Swallows progress; keeps log lines so tests can assert on them."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def task(self, description: str, total: int | None, unit: str = "items") -> Task:
        return _NullTask()

    def log(self, message: str) -> None:
        self.messages.append(message)


# What the running command has made durable so far, for the one line an interrupt prints
# ("checkpoint at step 200 of 1500 kept"). Steps overwrite it as they go; the CLI reads it
# when Ctrl-C or SIGTERM stops the command. One command per process, so a module value.
_kept: list[str] = []


def kept(message: str) -> None:
    """Record what a rerun of the current command will not redo."""
    _kept[:] = [message]


def last_kept() -> str | None:
    return _kept[0] if _kept else None


def forget_kept() -> None:
    _kept.clear()


class Labelled:
    """A reporter whose task descriptions end with a label saying which block they compute
    (`nlpd distances valid x train`), so a log line stands on its own."""

    def __init__(self, inner: Reporter, label: str) -> None:
        self._inner = inner
        self._label = label

    def task(self, description: str, total: int | None, unit: str = "items") -> Task:
        return self._inner.task(f"{description} {self._label}", total, unit)

    def log(self, message: str) -> None:
        self._inner.log(message)
