"""Where things go: data to stdout (Rich table or JSON), progress and diagnostics to stderr."""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from typing import IO, Any

from rich.console import Console, RenderableType
from rich.measure import Measurement
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
from percmusic_cli.api import Session
from percmusic_cli.cli.state import options
from percmusic_cli.render.safe import markup, shown


class SafeConsole(Console):
    """A console that reads no markup in plain strings and shows their control characters
    (but newlines) as \\xNN: every table cell, note and message holding a user's path, label
    or name passes through `render_str`. Styling is done with Text objects, never markup."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(markup=False, **kwargs)

    def render_str(self, text: str, **kwargs: Any) -> Text:
        kwargs["markup"] = False
        # Newlines stay: a chart, a prompt or a header we composed has them on purpose.
        # A user's value with a newline is shown as \x0a where it is put in (safe.text).
        return super().render_str(shown(text, keep_newlines=True), **kwargs)


out = SafeConsole(soft_wrap=False)
err = SafeConsole(stderr=True)


def session(create: bool = False) -> Session:
    """The running command's session (store, memory budget, executor), built once by the
    root callback from the global options; a default local one outside a command. Only
    `ingest` and `demo` pass `create=True`: any other command on a missing store folder
    says "no store at PATH" and creates nothing."""
    built = options().session
    if built is None:
        built = api.session(api.open_store(options().store, create=False))
    if create and not built.store.create:
        # The same session (reporter, executor, kept log) over a store it may create.
        built = dataclasses.replace(built, store=api.open_store(built.store.root, create=True))
    return built


# Every api call takes a session where a store goes: commands pass `output.store()`.
store = session


def emit(data: Any, as_json: bool, *renderables: RenderableType) -> None:
    """JSON on stdout when asked, otherwise the Rich renderables."""
    if as_json:
        sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
        return
    for item in renderables:
        show(item)


def show(item: RenderableType) -> None:
    """Print to stdout; to a pipe or file at the renderable's full width, so a table is
    never cut to 80 columns (`0.007…`) when nobody is looking at a terminal."""
    if out.is_terminal:
        out.print(item)
        return
    wide = out.options.update(width=10_000, max_width=10_000)
    width, before = Measurement.get(out, wide, item).maximum, out.width
    out.width = max(width, 1)  # print(width=) is capped at the console's width
    try:
        out.print(item, crop=False)
    finally:
        out.width = before


def note(message: str) -> None:
    """A log line: one line, so a newline in a path it names is shown as \\x0a."""
    if not options().quiet:
        err.print(shown(message), highlight=False, soft_wrap=True)  # a log line is never cut


def warn(message: str) -> None:
    """A diagnostic that --quiet keeps: it changes what the output means (one line)."""
    err.print(shown(message), highlight=False, markup=False)


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


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


class LogTask:
    """Progress as plain lines for logs and scripts (stderr not a terminal): one line
    every `every` seconds and one at the end, never escape codes, e.g.
    `train nlpd: 350/1500 steps, 0.6 steps/s, ETA 32 min, loss 0.412`."""

    def __init__(
        self,
        description: str,
        total: int | None,
        unit: str,
        stream: IO[str] | None,
        every: float = 5.0,
        clock: Any = time.monotonic,
    ) -> None:
        self.description, self.total, self.unit = description, total, unit
        self._stream, self._every, self._clock = stream, every, clock
        self._done, self._info = 0, ""
        self._start: float | None = None
        self._first = 0  # items already done when the clock started (a resumed run)
        self._last_line = clock()

    def line(self) -> str:
        now = self._clock()
        count = f"{self._done}/{self.total}" if self.total is not None else f"{self._done}"
        parts = [f"{self.description}: {count} {self.unit}"]
        elapsed = now - self._start if self._start is not None else 0.0
        rate = (self._done - self._first) / elapsed if elapsed > 0 else 0.0
        if rate > 0:
            parts.append(f"{rate:.3g} {self.unit}/s")
            if self.total is not None and self._done < self.total:
                parts.append(f"ETA {_duration((self.total - self._done) / rate)}")
        if self._info:
            parts.append(self._info)
        return ", ".join(parts)

    def _write(self) -> None:
        if self._stream is None:  # --quiet
            return
        self._stream.write(self.line() + "\n")
        self._stream.flush()
        self._last_line = self._clock()

    def advance(self, n: int = 1, info: str | None = None) -> None:
        if self._start is None:
            # The first advance may be a resumed run's finished steps: not part of the rate.
            self._start, self._first = self._clock(), self._done + n
        self._done += n
        self._info = info or self._info
        if self._clock() - self._last_line >= self._every:
            self._write()

    def close(self) -> None:
        self._write()


class RichReporter:
    """Progress bars with rate and ETA on stderr when it is a terminal, plain log lines
    every few seconds when it is not; silent with --quiet."""

    def task(self, description: str, total: int | None, unit: str = "items") -> Any:
        if not err.is_terminal:
            return LogTask(description, total, unit, None if options().quiet else sys.stderr)
        narrow = err.width < 120  # keep one line per bar at 80 columns
        columns: list[ProgressColumn | str] = [
            TextColumn("[bold]{task.description}"),
            BarColumn(bar_width=10 if narrow else 40),
            MofNCompleteColumn(),
            _RateColumn(),
        ]
        if not narrow:
            columns.append(TimeElapsedColumn())
        columns += [TextColumn("ETA"), TimeRemainingColumn(), TextColumn("{task.fields[info]}")]
        progress = Progress(*columns, console=err, transient=False, disable=options().quiet)
        progress.start()
        task = progress.add_task(markup(description), total=total, unit=unit, info="")
        return _RichTask(progress, task)

    def log(self, message: str) -> None:
        (warn if message.startswith("warning:") else note)(message)

    def kept(self, message: str) -> None:
        """Nothing to show: the session records it for the line an interrupt prints."""
