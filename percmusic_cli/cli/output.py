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
from percmusic_cli.render.safe import markup, shown


class SafeConsole(Console):
    """A console that reads no markup in plain strings and shows their control characters
    as \\xNN: every table cell, note and message holding a user's path, label or name
    passes through `render_str`. Styling is done with Text objects, never markup."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(markup=False, **kwargs)

    def render_str(self, text: str, **kwargs: Any) -> Text:
        kwargs["markup"] = False
        return super().render_str(shown(text), **kwargs)


out = SafeConsole(soft_wrap=False)
err = SafeConsole(stderr=True)


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
        self._progress.update(self._task, advance=n, info=markup(info or ""))

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
        task = progress.add_task(markup(description), total=total, unit=unit, info="")
        return _RichTask(progress, task)

    def log(self, message: str) -> None:
        note(message)
