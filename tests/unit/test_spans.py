"""The kernels' thread driver (metrics/_spans.py): every item once, in spans of the asked
size, on numba's thread count, and the first error raised to the caller."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import numba
import pytest

from percmusic_cli.metrics._spans import in_spans


@pytest.fixture
def numba_threads() -> Iterator[None]:
    """Puts this thread's numba thread count back after the test."""
    before = numba.get_num_threads()
    yield
    numba.set_num_threads(before)


@pytest.mark.parametrize(("n", "span"), [(0, 1), (1, 1), (7, 1), (7, 3), (12, 4), (5, 9)])
def test_every_item_once_in_spans_of_at_most_span(n: int, span: int) -> None:
    seen: list[tuple[int, int]] = []
    lock = threading.Lock()

    def work(start: int, stop: int) -> None:
        with lock:
            seen.append((start, stop))

    in_spans(work, n, span)
    covered = sorted(i for start, stop in seen for i in range(start, stop))
    assert covered == list(range(n))
    assert all(0 < stop - start <= span for start, stop in seen)


def test_one_numba_thread_runs_on_the_calling_thread(numba_threads: None) -> None:
    numba.set_num_threads(1)
    where: set[int] = set()
    in_spans(lambda start, stop: where.add(threading.get_ident()), 6)
    assert where == {threading.get_ident()}


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="one numba thread here")  # type: ignore[attr-defined]
def test_spans_run_side_by_side_on_numbas_threads(numba_threads: None) -> None:
    numba.set_num_threads(2)
    both = threading.Barrier(2, timeout=10)
    where: set[int] = set()

    def work(start: int, stop: int) -> None:
        where.add(threading.get_ident())
        both.wait()  # would time out (BrokenBarrierError) if the spans ran one after another

    in_spans(work, 2)
    assert len(where) == 2 and threading.get_ident() not in where


def test_the_first_error_is_raised_to_the_caller() -> None:
    def work(start: int, stop: int) -> None:
        if start == 3:
            raise ValueError(f"bad item {start}")

    with pytest.raises(ValueError, match="bad item 3"):
        in_spans(work, 8)
