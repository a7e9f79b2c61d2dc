"""The numba kernels' parallel loops, run from a pool of threads instead of `prange`.

Each kernel is a serial, GIL-free function over a span of its work (images, or groups of
pairs); the spans are handed out one at a time as threads free up, as `prange` with a chunk
size of 1 did, so a thread descheduled on shared cores holds back one span, not half the
work. The arithmetic of every item is the same code in any span, so no bit depends on the
spans or the threads.

Why not `prange`: numba's parallel lowering compiled the three wrappers in about 13 s of a
fresh cache's 25 s (numba's compile events, benchmarks/RESULTS.md), paid by the first run of
`distances` or `demo` on a machine, and by the tests that check a fresh compile."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor


def in_spans(work: Callable[[int, int], None], n: int, span: int = 1) -> None:
    """work(start, stop) for consecutive spans of at most `span` items covering range(n), on
    as many threads as numba may use here (`numba.get_num_threads`, which the `--threads`
    settings set). The first error stops the handing out and is raised here."""
    import numba

    spans = [(start, min(start + span, n)) for start in range(0, n, span)]
    threads = min(int(numba.get_num_threads()), len(spans))
    if threads <= 1:
        for start, stop in spans:
            work(start, stop)
        return
    with ThreadPoolExecutor(threads, thread_name_prefix="percmusic-kernel") as pool:
        futures = [pool.submit(work, start, stop) for start, stop in spans]
        try:
            for future in futures:
                future.result()
        finally:
            for future in futures:
                future.cancel()
