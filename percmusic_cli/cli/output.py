"""Where things go: data to stdout (Rich table or JSON), progress and diagnostics to stderr."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console, RenderableType
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from percmusic_cli import api
from percmusic_cli.api import Store
from percmusic_cli.cli.state import OPTIONS

out = Console(soft_wrap=False)
err = Console(stderr=True)


def store() -> Store:
    return api.open_store(OPTIONS.store)


def emit(data: Any, as_json: bool, *renderables: RenderableType) -> None:
    """JSON on stdout when asked, otherwise the Rich renderables."""
    if as_json:
        sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
        return
    for item in renderables:
        out.print(item)


def note(message: str) -> None:
    if not OPTIONS.quiet:
        err.print(message, highlight=False)


def warn(message: str) -> None:
    """A diagnostic that --quiet keeps: it changes what the output means."""
    err.print(message, highlight=False, markup=False)


class _RateColumn(ProgressColumn):
    """Items per second, in the task's own unit."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:.1f} {task.fields.get('unit', '')}/s" if speed else "")


class _RichTask:
    def __init__(self, progress: Progress, task: TaskID) -> None:
        self._progress = progress
        self._task = task

    def advance(self, n: int = 1, info: str | None = None) -> None:
        self._progress.update(self._task, advance=n, info=info or "")

    def close(self) -> None:
        self._progress.stop()


class RichReporter:
    """Progress bars with rate and ETA on stderr; silent with --quiet."""

    def task(self, description: str, total: int | None, unit: str = "items") -> _RichTask:
        progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            _RateColumn(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[info]}"),
            console=err,
            transient=False,
            disable=OPTIONS.quiet,
        )
        progress.start()
        task = progress.add_task(description, total=total, unit=unit, info="")
        return _RichTask(progress, task)

    def log(self, message: str) -> None:
        (warn if message.startswith("warning:") else note)(message)
