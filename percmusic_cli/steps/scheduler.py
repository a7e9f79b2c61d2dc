"""Where heavy, independent tasks run: in this process (`local`) or on Dask distributed.

`local` is the in-process path, unchanged. `dask` starts a `distributed.LocalCluster` of
one-thread worker processes on this machine; `tcp://HOST:PORT` or a scheduler file joins an
existing cluster. Dask is an optional extra (`percmusic[dask]`): it is imported only here,
and only when a Dask scheduler is asked for. The choice is process-wide, set once by the
CLI's global `--scheduler` (or `$PERCMUSIC_SCHEDULER`) through `api.use_scheduler`."""

from __future__ import annotations

import atexit
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from percmusic_cli.errors import UsageError

INSTALL_HINT = "pip install 'percmusic[dask]'"


@dataclass(frozen=True)
class SchedulerSpec:
    """kind: local | dask | address | file; target: the address or scheduler-file path."""

    kind: str
    target: str = ""
    workers: int | None = None

    @property
    def is_dask(self) -> bool:
        return self.kind != "local"

    def describe(self) -> str:
        return self.kind if not self.target else f"{self.kind} {self.target}"


LOCAL = SchedulerSpec("local")
_current: SchedulerSpec = LOCAL


def parse(value: str | None) -> SchedulerSpec:
    """`local`, `dask`, `tcp://HOST:PORT` (any `scheme://`), or an existing scheduler file."""
    text = (value or "local").strip()
    if text == "local":
        return LOCAL
    if text == "dask":
        spec = SchedulerSpec("dask")
    elif "://" in text:
        spec = SchedulerSpec("address", text)
    elif text.endswith(".json") or Path(text).is_file():
        if not Path(text).is_file():
            raise UsageError(f"--scheduler {text!r}: no such scheduler file")
        spec = SchedulerSpec("file", text)
    else:
        raise UsageError(
            f"--scheduler {text!r}: choose local, dask, tcp://HOST:PORT or a scheduler file"
        )
    require_dask()
    return spec


def require_dask() -> None:
    """A one-line usage error naming the install command when the extra is missing."""
    try:
        import distributed  # noqa: F401
    except ImportError as exc:
        raise UsageError(f"--scheduler needs Dask distributed: {INSTALL_HINT}") from exc


def use(spec: SchedulerSpec) -> None:
    global _current
    if spec != _current:
        close()
    _current = spec


def current() -> SchedulerSpec:
    return _current


_client: Any = None


def client() -> Any:
    """The process's `distributed.Client` for the current spec, started on first use and
    closed at exit (a LocalCluster's startup costs seconds: once per command, not per block)."""
    global _client
    if _client is not None:
        return _client
    spec = _current
    require_dask()
    from distributed import Client, LocalCluster

    if spec.kind == "dask":
        # One thread per worker process, and no hidden thread pools inside a task either.
        # `env` is set inside each worker process as it starts (before numba or torch is
        # imported there); the nanny's pre-spawn environ would change this process's own
        # environment, and numba here refuses a thread count changed after its launch.
        env = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"}
        cluster = LocalCluster(
            n_workers=spec.workers or max(1, os.cpu_count() or 1),
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            silence_logs=40,
            env=env,
        )
        _client = Client(cluster)
    else:
        try:
            _client = (
                Client(scheduler_file=spec.target, timeout="30s")
                if spec.kind == "file"
                else Client(spec.target, timeout="30s")
            )
        except OSError as exc:
            raise UsageError(
                f"--scheduler {spec.target}: cannot reach the scheduler ({exc})"
            ) from exc
    atexit.register(close)
    return _client


def worker_count() -> int:
    """Workers to spread tasks over: 1 for local, else the cluster's current count."""
    if not _current.is_dask:
        return 1
    return max(1, len(client().scheduler_info().get("workers", {})))


def close() -> None:
    """Close the client (and the LocalCluster it started); a later call starts a new one."""
    global _client
    if _client is None:
        return
    cluster = _client.cluster
    _client.close()
    if cluster is not None:
        cluster.close()
    _client = None
