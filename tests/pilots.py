"""Driving the dashboard in tests: `sync` runs an async test, `settle` presses keys and waits
until the app is still, and `quick_idle` shortens Textual's idle poll (a session fixture in
tests/conftest.py applies it).

`settle` does not rely on Textual's idle guess to see a worker's result: it waits for the
workers themselves, then lets the app handle what they posted, and again while that starts
more. That is what lets `quick_idle` poll every 2.5 ms instead of every 20 ms."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from textual.pilot import Pilot

# Textual's pilot waits for the app to go idle after each key press and each pause: it sleeps
# in steps of 20 ms (textual._wait.SLEEP_GRANULARITY) until a step passes with (almost) no
# CPU used. Two such waits per key, and one per pause, were about a quarter of the dashboard
# tests' wall time, most of it asleep (benchmarks/RESULTS.md, "Fourth pass").
QUICK_STEP_S = 1 / 400


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
    idle = 0
    while idle < 2:
        await pilot.app.workers.wait_for_complete()
        # A pause first handles the messages already queued, and so what the workers posted
        # (a worker posts before it counts as finished). The second pause in a row without
        # a worker covers one that started and finished within the first.
        await pilot.pause()
        idle = idle + 1 if all(worker.is_finished for worker in pilot.app.workers) else 0


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
