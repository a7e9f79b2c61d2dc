"""A Dask cluster that fails: a scheduler nobody answers at, a scheduler killed mid-run,
every worker killed mid-run. Each ends the command in one line (exit 2), bounded by
`--wait-workers`, without Dask's tracebacks, saying how many tasks were kept, and `train`
leaves no "training" row. The cluster is real: `dask scheduler` and `dask worker`
processes started by the test."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from clitools import empty_store

from percmusic_cli import api

pytest.importorskip("distributed")

CODE = "import sys; from percmusic_cli.cli.app import main; sys.argv[0] = 'percmusic'; main()"
ONE_THREAD = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"}


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_no_scheduler_answering_is_one_line_and_train_writes_no_row(tmp_path: Path) -> None:
    root = empty_store(tmp_path / "store")
    args = [
        "--store", str(root), "--scheduler", f"tcp://127.0.0.1:{_free_port()}",
        "--wait-workers", "1", "train", "--loss", "mse", "--steps", "2", "--device", "cpu",
    ]  # fmt: skip
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", CODE, *args], env=_env(), capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "no scheduler answered within 1 s" in lines[0], done.stderr
    assert time.monotonic() - started < 60
    assert all(m["status"] != "training" for m in api.models(api.open_store(root)))


@pytest.fixture(scope="module")
def tiny_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("faults") / "store"
    store = api.open_store(root)
    api.ingest(store, synthetic=True, clips_per_class=3)
    api.split(store, method="random")
    api.features(store, n_frames=128, device="cpu")
    return root


class Cluster:
    def __init__(self, tmp: Path) -> None:
        self.file = tmp / "scheduler.json"
        env = {**_env(), **ONE_THREAD}
        dask = [sys.executable, "-m", "distributed.cli"]
        self.scheduler = subprocess.Popen(
            [*dask[:2], "distributed.cli.dask_scheduler", "--scheduler-file", str(self.file),
             "--host", "127.0.0.1", "--port", "0", "--dashboard-address", ":0"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while not self.file.is_file() and time.monotonic() < deadline:
            time.sleep(0.2)
        self.worker = subprocess.Popen(
            [*dask[:2], "distributed.cli.dask_worker", "--scheduler-file", str(self.file),
             "--nthreads", "1", "--no-nanny", "--dashboard-address", ":0"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip

    def stop(self) -> None:
        for p in (self.worker, self.scheduler):
            if p.poll() is None:
                p.kill()
            p.wait()


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    c = Cluster(tmp_path)
    try:
        yield c
    finally:
        c.stop()


def _distances_then_kill(
    root: Path, cluster: Cluster, victim: subprocess.Popen[bytes]
) -> subprocess.CompletedProcess[str]:
    args = [
        "--store", str(root), "--scheduler", str(cluster.file), "--wait-workers", "5",
        "distances", "--metric", "msssim", "--pairs", "all", "--tile", "1", "--device", "cpu",
    ]  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-c", CODE, *args], env=_env(), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and proc.poll() is None:
        # One worker thread runs the tasks (up to 8 x 8 tiles each) one after another:
        # past 64 tiles, at least one task has finished.
        if len(list(root.glob("arrays/*.parts/*.sha256"))) >= 65:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the run finished before the cluster could be killed"
    victim.send_signal(signal.SIGKILL)
    started = time.monotonic()
    out, err = proc.communicate(timeout=120)
    assert time.monotonic() - started < 90  # bounded by --wait-workers, not a hang
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@pytest.mark.slow
@pytest.mark.parametrize("victim", ["worker", "scheduler"])
def test_a_cluster_killed_mid_run_ends_in_one_line(
    tiny_store: Path, tmp_path: Path, cluster: Cluster, victim: str
) -> None:
    root = tmp_path / "store"
    shutil.copytree(tiny_store, root)
    done = _distances_then_kill(root, cluster, getattr(cluster, victim))
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    last = lines[-1]
    assert last.startswith("error: ") and "tasks finished" in last, done.stderr
    tasks = int(last.split(" of ")[0].split()[-1])
    assert tasks >= 1 and " distance tiles of msssim all x all kept" in last
    # Nothing else but progress lines before it: no Dask log, no traceback.
    assert all(line.startswith("msssim distances") for line in lines[:-1]), done.stderr


def test_too_few_open_files_for_dask_is_one_line(tmp_path: Path) -> None:
    import resource

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (32, 32))

    root = empty_store(tmp_path / "store")
    args = [
        "--store", str(root), "--scheduler", "dask", "--wait-workers", "30",
        "train", "--loss", "mse", "--steps", "2", "--device", "cpu",
    ]  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-c", CODE, *args], env=_env(), capture_output=True, text=True,
        timeout=180, check=False, preexec_fn=limit,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "too many open files (ulimit -n is 32)" in lines[0], done.stderr
    assert all(m["status"] != "training" for m in api.models(api.open_store(root)))
