"""The thread policy for shared CPUs, applied once at start-up (`percmusic_cli/__init__`).

OpenMP (torch's intra-op pool, its BLAS, numba's "omp" layer) by default lets a thread that
waits at the end of a parallel region spin on its core for a while. On a machine where other
processes want the cores, the spinning threads take the time slices the working thread
needs, and every one of training's many small parallel regions waits for a descheduled
thread: quick-preset training fell 10-50x beside two busy processes. A passive wait (sleep
at once) costs a little wake-up latency when alone and keeps throughput under contention
(benchmarks/contention.py; RESULTS.md). Thread counts are left as they are: the number of
threads decides how torch splits some reductions, so changing it would change result bits.

Only defaults are set: a value the user exported wins. The variables must be in the
environment before torch or numba load their OpenMP runtime, which is why the package's
`__init__` (imported before any submodule) calls `apply_thread_policy`. Worker processes
(Dask, Slurm) get the same variables from `thread_environment`."""

from __future__ import annotations

import os
from collections.abc import MutableMapping

# GNU OpenMP (torch's wheels, numba's omp layer): waiting threads sleep instead of spinning.
# KMP_BLOCKTIME=0: the same for Intel's OpenMP, which an MKL build of torch or numpy loads.
POLICY: dict[str, str] = {"OMP_WAIT_POLICY": "PASSIVE", "KMP_BLOCKTIME": "0"}


def thread_environment() -> dict[str, str]:
    """The variables a process running percmusic work should start with."""
    return dict(POLICY)


def apply_thread_policy(environ: MutableMapping[str, str] | None = None) -> None:
    """Set the policy's variables unless already set (in os.environ by default)."""
    target = os.environ if environ is None else environ
    for key, value in POLICY.items():
        target.setdefault(key, value)
