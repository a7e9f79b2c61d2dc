"""`--scheduler slurm`: Dask workers as Slurm jobs through dask-jobqueue's SLURMCluster.

Every setting follows dask-jobqueue's conventions: the `jobqueue.slurm` section of a Dask
config file (~/.config/dask/jobqueue.yaml) or `DASK_JOBQUEUE__SLURM__<KEY>` in the
environment: `queue` (the partition), `cores`, `memory`, `walltime`, `account`, ...; and
`jobs` (percmusic's key: how many jobs to submit, default 1). Each job runs one-thread
workers, as the `dask` LocalCluster does, so results are the bits the local path gives.
A missing or wrong setting is one line naming it, before any job is submitted; jobs that
never start are one line after `--wait-workers` seconds."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

from percmusic_cli.errors import DataError, UsageError
from percmusic_cli.execution.backends import DaskBackend, require_dask

PREFIX = "jobqueue.slurm"
ONE_THREAD = [
    "export OMP_NUM_THREADS=1",
    "export MKL_NUM_THREADS=1",
    "export NUMBA_NUM_THREADS=1",
]


def _setting(key: str, default: Any = None) -> Any:
    import dask.config

    dask.config.refresh()  # the environment as it is now, not at import
    return dask.config.get(f"{PREFIX}.{key}", default=default)


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=30, check=False)


def check_settings() -> tuple[dict[str, Any], int]:
    """The SLURMCluster keyword arguments and the job count; a usage error names a bad
    setting (the config key and its environment variable)."""
    for tool in ("sbatch", "squeue", "scontrol"):
        if shutil.which(tool) is None:
            raise UsageError(f"--scheduler slurm: {tool} is not on PATH (is this a Slurm node?)")
    try:
        jobs = int(_setting("jobs", 1))
    except (TypeError, ValueError):
        jobs = 0
    if jobs < 1:
        raise UsageError(
            f"{PREFIX}.jobs (DASK_JOBQUEUE__SLURM__JOBS) {_setting('jobs')!r}: a whole number >= 1"
        )
    for key in ("cores", "memory"):
        if _setting(key) in (None, ""):
            raise UsageError(
                f"{PREFIX}.{key} (DASK_JOBQUEUE__SLURM__{key.upper()}) is not set: "
                "dask-jobqueue needs the cores and memory of one job, e.g. 1 and 2GB"
            )
    _check_partition(_setting("queue"))
    prologue = [*(_setting("job-script-prologue") or []), *ONE_THREAD]
    cores = int(_setting("cores"))
    # One single-threaded worker process per core: as many tasks at once as cores.
    return {"processes": cores, "job_script_prologue": prologue}, jobs


def _check_partition(queue: str | None) -> None:
    listed = _run(["sinfo", "-h", "-o", "%P"]) if shutil.which("sinfo") else None
    names = listed.stdout.split() if listed is not None and listed.returncode == 0 else []
    where = f"{PREFIX}.queue (DASK_JOBQUEUE__SLURM__QUEUE)"
    if queue in (None, ""):
        if names and not any(n.endswith("*") for n in names):
            raise UsageError(f"{where} is not set and Slurm has no default partition")
        return
    found = _run(["scontrol", "show", "partition", str(queue)])
    if found.returncode != 0:
        have = ", ".join(n.rstrip("*") for n in names) or "none listed"
        raise UsageError(f"{where} {queue!r}: no such Slurm partition (have: {have})")


class SlurmBackend(DaskBackend):
    def __init__(self, workers: int | None, wait_s: float) -> None:
        require_dask("--scheduler slurm")
        try:
            import dask_jobqueue  # noqa: F401
        except ImportError as exc:
            raise UsageError(
                "--scheduler slurm needs dask-jobqueue: pip install 'percmusic[dask]'"
            ) from exc
        self.kwargs, self.jobs = check_settings()
        super().__init__("slurm", "", workers, wait_s)

    def describe(self) -> str:
        return f"slurm ({self.jobs} job{'s' if self.jobs != 1 else ''})"

    def _start(self) -> Any:
        from dask_jobqueue import SLURMCluster
        from distributed import Client

        cluster = SLURMCluster(**self.kwargs)
        cluster.scale(jobs=self.jobs)
        client = Client(cluster)
        try:
            client.wait_for_workers(1, timeout=self.wait_s)
        except TimeoutError:
            pending = _run(["squeue", "-h", "-u", _user(), "-o", "%i %T %r"]).stdout.strip()
            client.close()
            cluster.close()
            raise DataError(
                f"--scheduler slurm: no Slurm job started within {self.wait_s:g} s "
                f"(--wait-workers); check {PREFIX}.queue, .cores, .memory and .walltime"
                + (f"; squeue: {' | '.join(pending.splitlines()[:3])}" if pending else "")
            ) from None
        return client


def _user() -> str:
    import getpass

    return getpass.getuser()
