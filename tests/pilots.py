"""Driving the dashboard in tests: `sync` runs an async test, `settle` presses keys and waits
until the app is still, and `quick_idle` shortens Textual's idle poll (a session fixture in
tests/conftest.py applies it).

`settle` does not rely on Textual's idle guess, which a starved process fools: it waits for
the workers themselves, lets the app handle what they posted, and checks that no message is
left queued, again while that starts more. That is what lets `quick_idle` poll every 2.5 ms
instead of every 20 ms."""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any

from textual.worker import WorkerCancelled

if TYPE_CHECKING:
    from textual.pilot import Pilot

# Textual's pilot waits for the app to go idle after each key press and each pause: it sleeps
# in steps of 20 ms (textual._wait.SLEEP_GRANULARITY) until a step passes with (almost) no
# CPU used. Two such waits per key, and one per pause, were about a quarter of the dashboard
# tests' wall time, most of it asleep (benchmarks/RESULTS.md, "Fourth pass").
QUICK_STEP_S = 1 / 400
# A test whose app never goes still fails with a clear message instead of hanging to the timeout.
SETTLE_LIMIT_S = 60.0


def sync(fn: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an async test with asyncio (no async pytest plugin is installed)."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> None:
        asyncio.run(fn(*args, **kwargs))

    return run


async def settle(pilot: Pilot[Any], *keys: str) -> None:
    """Press `keys` one by one; after each (or once, given none) wait until no worker runs
    and the messages the workers posted have been handled."""
    for key in keys or ("",):
        if key:
            await pilot.press(key)
        await _still(pilot)


async def _still(pilot: Pilot[Any]) -> None:
    """Wait until two rounds in a row end still: no worker running, the same screen, and no
    message queued in the app or the screen's widgets.

    Each round first waits for the workers (a cancelled one counts as done: an exclusive
    worker is cancelled by the next), then pauses, which handles every message queued so far
    (a worker posts before it counts as finished). Textual's own idle guess inside the pause
    cannot be relied on: a process that the machine starves of CPU looks idle to it, and the
    guess then returns before a new screen has mounted or a worker has started. So stillness
    is checked on the app's state itself, and a second still round covers a worker that
    started and finished within the first."""
    app = pilot.app
    calm = 0
    deadline = time.monotonic() + SETTLE_LIMIT_S
    while calm < 2:
        if time.monotonic() > deadline:
            raise AssertionError(f"the app was still busy after {SETTLE_LIMIT_S:.0f} s")
        for worker in list(app.workers):
            with suppress(WorkerCancelled):
                await worker.wait()
        screen = app.screen
        await pilot.pause()
        still = app.screen is screen and all(worker.is_finished for worker in app.workers)
        still = still and not any(
            node.message_queue_size for node in (app, *screen.walk_children(with_self=True))
        )
        calm = calm + 1 if still else 0


@contextmanager
def quick_idle(step_s: float = QUICK_STEP_S) -> Iterator[None]:
    """Textual's idle poll in steps of `step_s` (its ratio of idle CPU to step kept)."""
    import textual._wait as wait

    saved = wait.SLEEP_GRANULARITY, wait.SLEEP_IDLE
    wait.SLEEP_GRANULARITY, wait.SLEEP_IDLE = step_s, step_s * saved[1] / saved[0]
    try:
        yield
    finally:
        wait.SLEEP_GRANULARITY, wait.SLEEP_IDLE = saved
