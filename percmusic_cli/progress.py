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

    def kept(self, message: str) -> None:
        """Record what a rerun of the current command will not redo (the line an
        interrupt prints: "checkpoint at step 200 of 1500 kept")."""


class _NullTask:
    def advance(self, n: int = 1, info: str | None = None) -> None:
        return None

    def close(self) -> None:
        return None


class NullReporter:
    """Swallows progress; keeps log lines so tests can assert on them."""

    def __init__(self) -> None:
        self.messages: list[str] = []
        self.kept_messages: list[str] = []

    def task(self, description: str, total: int | None, unit: str = "items") -> Task:
        return _NullTask()

    def log(self, message: str) -> None:
        self.messages.append(message)

    def kept(self, message: str) -> None:
        self.kept_messages.append(message)


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

    def kept(self, message: str) -> None:
        self._inner.kept(message)
