"""Two processes on one store: a second writer fails fast with "store is in use by PID
..." (exit 2) or waits with --wait; readers (`status`, `results`, `check`) work while a
writer runs, because the writer holds DuckDB open only for one short unit of work at a
time (a reader arriving during one waits for it, up to Store.busy_timeout_s); a killed
writer leaves no stale lock (flock dies with its process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from trees import SR, tone_clip, write_wav

from percmusic_cli import api
from percmusic_cli.steps.check import check_store
from percmusic_cli.store import Store
from percmusic_cli.store import check as sc

REPO = Path(__file__).resolve().parents[2]
HOLD = (
    "import sys, time\n"
    "from pathlib import Path\n"
    "from percmusic_cli.store.lock import WriterLock\n"
    "with WriterLock(Path(sys.argv[1]), command='features'):\n"
    "    print('locked', flush=True)\n"
    "    time.sleep(float(sys.argv[2]))\n"
)
MAIN = "import sys; from percmusic_cli.cli.app import main; sys.argv[0] = 'percmusic'; main()"
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def _cli(store: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-c", MAIN, "--store", str(store), "-q", *args]
    return subprocess.run(cmd, cwd=REPO, env=ENV, capture_output=True, text=True, timeout=300)


def _holder(store: Path, seconds: float) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(store), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    return proc


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Path]:
    data = tmp_path / "data"
    for label in ("a", "b"):
        for i in range(2):
            write_wav(data / label / f"{i}.wav", tone_clip(200.0 + 90 * i), SR)
    api.ingest(Store(tmp_path / "store"), data)
    yield tmp_path / "store"


def test_second_writer_fails_fast_with_the_holders_pid(store: Path) -> None:
    holder = _holder(store, 60)
    try:
        result = _cli(store, "filter", "--split", "random")
    finally:
        holder.kill()
        holder.wait()
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"is in use by PID {holder.pid} (features)" in lines[0]
    assert "--wait" in lines[0]


def test_wait_lets_the_second_writer_in_when_the_first_finishes(store: Path) -> None:
    holder = _holder(store, 1.5)
    try:
        result = _cli(store, "--wait", "60", "filter", "--split", "random")
    finally:
        holder.wait()
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_wait_gives_up_after_its_time(store: Path) -> None:
    holder = _holder(store, 60)
    try:
        result = _cli(store, "--wait", "0.5", "filter", "--split", "random")
    finally:
        holder.kill()
        holder.wait()
    assert result.returncode == 2 and "in use by PID" in result.stderr


@pytest.mark.slow  # runs and kills a writer process
def test_readers_work_while_a_writer_runs_and_a_killed_writer_leaves_no_lock(
    store: Path,
) -> None:
    args = [
        "train",
        "--loss",
        "mse",
        "--steps",
        "100000",
        "--batch",
        "1",
        "--patch",
        "16",
        "--hidden",
        "2",
        "--latent",
        "1",
        "--device",
        "cpu",
    ]
    writer = subprocess.Popen(
        [sys.executable, "-c", MAIN, "--store", str(store), "-q", *args],
        cwd=REPO,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    try:
        deadline = time.monotonic() + 120
        while sc.writer_holder(store) is None:
            assert writer.poll() is None, writer.stderr.read() if writer.stderr else ""
            assert time.monotonic() < deadline
            time.sleep(0.1)
        status = _cli(store, "status", "--json")
        results = _cli(store, "results", "--json")
        report = check_store(Store(store))
        second = _cli(store, "filter", "--split", "random")
    finally:
        writer.kill()
        writer.wait()
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["datasets"][0]["name"] == "data"
    assert results.returncode == 0 and json.loads(results.stdout) == []
    assert report["ok"] and report["writer"] == f"PID {writer.pid} (train --loss mse)"
    assert second.returncode == 2 and f"PID {writer.pid}" in second.stderr
    assert sc.writer_holder(store) is None
    after = check_store(Store(store))
    assert after["ok"] and after["writer"] is None
    assert [f["kind"] for f in after["in_progress"]] == ["training"]
    rerun = _cli(store, "filter", "--split", "random")
    assert rerun.returncode == 0, rerun.stderr
