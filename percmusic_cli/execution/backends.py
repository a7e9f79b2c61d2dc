"""Where heavy, independent tasks run: a `Backend` gives a `concurrent.futures.Executor`.

`local` runs each task in this process, in the caller's thread, as it is submitted (the
tasks' own tile pools give the parallelism, so local results are the bits they always
were). `dask` starts a `distributed.LocalCluster` of one-thread worker processes on this
machine; `tcp://HOST:PORT` or a scheduler file joins an existing cluster; `slurm` starts a
dask-jobqueue SLURMCluster (`execution.slurm`). Dask is an optional extra
(`percmusic[dask]`), imported only by the Dask backends and only when one is asked for.

A new backend is one class with `describe`, `ready`, `executor`, `workers`, `problem`
and `close`, and one line in `parse` (see CONTRIBUTING.md, "Add an executor backend")."""

from __future__ import annotations

import concurrent.futures as cf
import errno
import json
import logging
import os
import re
import resource
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from percmusic_cli.errors import DataError, PercmusicError, UsageError

INSTALL_HINT = "pip install 'percmusic[dask]'"
SCHEMES = ("tcp", "tls", "inproc", "ucx", "ws", "wss")


class Backend(Protocol):
    wait_s: float  # the longest wait for a worker (--wait-workers)

    def describe(self) -> str: ...

    def ready(self) -> None:
        """Start or reach the workers now; a bad setting fails here, before a step writes."""

    def executor(self, resources: dict[str, float] | None = None) -> cf.Executor: ...

    def workers(self) -> int:
        """Workers to spread tasks over now (0: none left)."""

    def problem(self, exc: BaseException) -> PercmusicError | None:
        """The one-line error for a failure of the backend itself, else None."""

    def close(self) -> None: ...


class InlineExecutor(cf.Executor):
    """Runs each task at `submit`, in the caller's thread; returns a finished future."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> cf.Future[Any]:
        fut: cf.Future[Any] = cf.Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except Exception as exc:  # KeyboardInterrupt and SystemExit stop the command
            fut.set_exception(exc)
        return fut


class LocalBackend:
    wait_s = 60.0

    def describe(self) -> str:
        return "local"

    def ready(self) -> None:
        return None

    def executor(self, resources: dict[str, float] | None = None) -> cf.Executor:
        return InlineExecutor()

    def workers(self) -> int:
        return 1

    def problem(self, exc: BaseException) -> PercmusicError | None:
        return None

    def close(self) -> None:
        return None


def require_dask(option: str = "--scheduler") -> None:
    """A one-line usage error naming the install command when the extra is missing."""
    try:
        import distributed  # noqa: F401
    except ImportError as exc:
        raise UsageError(f"{option} needs Dask distributed: {INSTALL_HINT}") from exc


def parse(value: str | None, workers: int | None = None, wait_s: float = 60.0) -> Backend:
    """`local`, `dask`, `slurm`, `SCHEME://HOST:PORT`, or an existing scheduler file; each is
    checked here (a usage error names the value), before anything is started or written."""
    text = (value or "local").strip()
    if text == "local":
        return LocalBackend()
    if text == "dask":
        require_dask()
        return DaskBackend("dask", "", workers, wait_s)
    if text == "slurm":
        from percmusic_cli.execution.slurm import SlurmBackend

        return SlurmBackend(workers, wait_s)
    if "://" in text:
        check_address(text)
        require_dask()
        return DaskBackend("address", text, workers, wait_s)
    if text.endswith(".json") or Path(text).exists():
        check_scheduler_file(text)
        require_dask()
        return DaskBackend("file", text, workers, wait_s)
    raise UsageError(
        f"--scheduler {text!r}: choose local, dask, slurm, tcp://HOST:PORT or a scheduler file"
    )


def check_address(text: str) -> None:
    m = re.fullmatch(r"([a-z]+)://(\[[0-9a-fA-F:]+\]|[^:/\s]+):([0-9]{1,5})", text)
    if m is None or m.group(1) not in SCHEMES or not 0 < int(m.group(3)) < 65536:
        raise UsageError(
            f"--scheduler {text!r}: not a scheduler address; give SCHEME://HOST:PORT with "
            f"SCHEME one of {', '.join(SCHEMES)} and PORT 1-65535"
        )


def check_scheduler_file(text: str) -> None:
    path = Path(text)
    if not path.is_file():
        raise UsageError(f"--scheduler {text!r}: no such scheduler file")
    try:
        address = json.loads(path.read_text(encoding="utf-8"))["address"]
    except (OSError, UnicodeDecodeError, ValueError, TypeError, KeyError) as exc:
        raise UsageError(
            f"--scheduler {text!r}: not a Dask scheduler file (JSON with an 'address'): {exc}"
        ) from None
    if not isinstance(address, str):
        raise UsageError(f"--scheduler {text!r}: its 'address' is not a string")
    check_address(address)


def dask_problem(exc: BaseException, where: str) -> PercmusicError | None:
    """Failures of the cluster (not of a task) as one line."""
    from distributed.client import FutureCancelledError
    from distributed.comm.core import CommClosedError
    from distributed.scheduler import KilledWorker

    if isinstance(exc, KilledWorker):
        return DataError(f"{where}: a task killed its workers three times ({exc.args[0]})")
    if isinstance(exc, FutureCancelledError | CommClosedError | cf.CancelledError):
        return DataError(f"{where}: the Dask scheduler went away mid-run")
    if isinstance(exc, OSError) and "Timed out" in str(exc):
        return DataError(f"{where}: the Dask scheduler stopped answering")
    if isinstance(exc, OSError) and exc.errno == errno.EMFILE:
        return DataError(f"{where}: too many open files ({exc}); raise `ulimit -n`")
    return None


class DaskBackend:
    """A `distributed.Client`, started on first use and closed by `close`."""

    def __init__(self, kind: str, target: str, workers: int | None, wait_s: float) -> None:
        self.kind, self.target, self.n_workers, self.wait_s = kind, target, workers, wait_s
        self._client: Any = None

    def describe(self) -> str:
        return self.kind if not self.target else f"{self.kind} {self.target}"

    def client(self) -> Any:
        if self._client is None:
            _quiet_dask_logs()
            try:
                self._client = self._start()
            except PercmusicError:
                raise
            except Exception as exc:  # Dask wraps the cause (a Nanny's RuntimeError, ...)
                raise self._start_problem(exc) from None
        return self._client

    def _start_problem(self, exc: BaseException) -> PercmusicError:
        where = f"--scheduler {self.describe()}"
        seen: BaseException | None = exc
        while seen is not None:
            if isinstance(seen, OSError) and seen.errno == errno.EMFILE:
                break
            seen = seen.__cause__ or seen.__context__
        if seen is not None or "Too many open files" in str(exc):
            soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
            return DataError(
                f"{where}: too many open files (ulimit -n is {soft}); Dask needs a few "
                "hundred: raise it with `ulimit -n 4096`"
            )
        if isinstance(exc, OSError) and "Timed out" in str(exc):
            return DataError(
                f"{where}: no scheduler answered within {self.wait_s:g} s (--wait-workers)"
            )
        found = dask_problem(exc, where)
        if found is not None:
            return found
        return DataError(f"{where}: cannot start or reach it: {type(exc).__name__}: {exc}")

    def _start(self) -> Any:
        from distributed import Client, LocalCluster

        if self.kind == "dask":
            # One thread per worker process, and no hidden thread pools inside a task either.
            # `env` is set inside each worker process as it starts (before numba or torch is
            # imported there); the nanny's pre-spawn environ would change this process's own
            # environment, and numba here refuses a thread count changed after its launch.
            env = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"}
            cluster = LocalCluster(
                n_workers=self.n_workers or max(1, os.cpu_count() or 1),
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",
                silence_logs=logging.CRITICAL,
                env=env,
            )
            return Client(cluster)
        timeout = f"{max(1, int(self.wait_s))}s"
        if self.kind == "file":
            return Client(scheduler_file=self.target, timeout=timeout)
        return Client(self.target, timeout=timeout)

    def ready(self) -> None:
        self.client()

    def executor(self, resources: dict[str, float] | None = None) -> cf.Executor:
        kwargs: dict[str, Any] = {"retries": 2, "pure": False}
        if resources:
            kwargs["resources"] = resources
        return self.client().get_executor(**kwargs)

    def workers(self) -> int:
        client = self.client()
        if client.status != "running":  # the scheduler is gone; cached info would lie
            return 0
        try:
            return len(client.scheduler_info().get("workers", {}))
        except OSError:
            return 0

    def problem(self, exc: BaseException) -> PercmusicError | None:
        return dask_problem(exc, f"--scheduler {self.describe()}")

    def close(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        cluster = client.cluster
        try:
            client.close(timeout=5)
            if cluster is not None:
                cluster.close(timeout=5)
        except Exception:  # a scheduler already gone: nothing left to close
            return


# Dask's logging config gives each of these its own level and handler, so each is named.
# tornado.application: a scheduler killed mid-gather surfaces as an exception in a tornado
# callback, which tornado logs with its traceback. asyncio: a comm future nobody awaits
# after the loss is reported as "exception was never retrieved", also with a traceback.
DASK_LOGGERS = (
    "distributed",
    "distributed.client",
    "distributed.core",
    "distributed.comm",
    "tornado",
    "tornado.application",
    "asyncio",
)


def _quiet_dask_logs() -> None:
    """Dask logs a lost scheduler or worker with tracebacks; the step says it in one line."""
    for name in DASK_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL)
