"""`--scheduler slurm` against a real single-node Slurm started by the test (munged,
slurmctld, slurmd; `slurm_node`): distance tiles and training runs go through sbatch as
dask-jobqueue jobs; tiles come out the bits the local path gives, trained models within
the documented bound; a wrong partition, no
sbatch on PATH and jobs that never start are one line each. Skips (with the reason)
where Slurm is not installed or root is missing: never a mock."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from slurm_node import single_node, unavailable

from percmusic_cli import api
from percmusic_cli.config import PRESETS, DistanceConfig
from percmusic_cli.errors import DataError, UsageError
from percmusic_cli.steps.distances import DistanceBlocks

pytest.importorskip("dask_jobqueue")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(unavailable() is not None, reason=str(unavailable())),
]

DIST = DistanceConfig(device="cpu", tile=4)
JOBQUEUE = {
    "DASK_JOBQUEUE__SLURM__QUEUE": "debug",
    "DASK_JOBQUEUE__SLURM__CORES": "1",
    "DASK_JOBQUEUE__SLURM__MEMORY": "1GB",
    "DASK_JOBQUEUE__SLURM__WALLTIME": "00:10:00",
    "DASK_JOBQUEUE__SLURM__JOBS": "2",
}


@pytest.fixture(scope="module")
def slurm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    here = tmp_path_factory.mktemp("slurm")
    with single_node(here) as env:
        saved = dict(os.environ)
        os.environ.update({k: env[k] for k in ("SLURM_CONF",)} | JOBQUEUE)
        # The jobs' output files go there, not into the folder the tests run from.
        os.environ["DASK_JOBQUEUE__SLURM__LOG_DIRECTORY"] = str(here / "job-logs")
        # The jobs' workers import percmusic from this checkout, as the test does.
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        try:
            yield env
        finally:
            os.environ.clear()
            os.environ.update(saved)


@pytest.fixture(scope="module")
def tiny_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("slurm-store") / "store"
    store = api.open_store(root)
    api.ingest(store, synthetic=True, clips_per_class=3)
    api.split(store, method="random")
    api.features(store, n_frames=128, device="cpu")
    return root


def _run(root: Path, scheduler: str) -> tuple[dict[str, np.ndarray], list[Any]]:
    session = api.session(root, scheduler=scheduler, wait_workers=120)
    try:
        api.distances(session, metric="mse,nlpd", config=DIST)
        train, model = PRESETS["quick"]
        cfgs = [
            dataclasses.replace(train, loss=m, steps=4, checkpoint_every=2, device="cpu")
            for m in ("mse", "nlpd")
        ]
        models = api.train_many(session, cfgs, model)
        view = api._view(session, None)
        blocks = {
            f"{m} {r} x {c}": DistanceBlocks(
                session, view, dataclasses.replace(DIST, metric=m)
            ).get(r, c)
            for m in ("mse", "nlpd")
            for r, c in (("train", "train"), ("test", "train"))
        }
        history = [api.loss_history(session, m["model_id"]) for m in models]
        assert not any(m.get("reused") for m in models)
        return blocks, history
    finally:
        session.close()


def test_slurm_equals_local(
    slurm: dict[str, str], tiny_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    local, there = tmp_path / "local", tmp_path / "slurm"
    shutil.copytree(tiny_store, local)
    shutil.copytree(tiny_store, there)
    want_blocks, want_history = _run(local, "local")
    monkeypatch.setenv("PERCMUSIC_MODEL_CACHE", str(tmp_path / "slurm-model-cache"))
    got_blocks, got_history = _run(there, "slurm")
    for key, block in want_blocks.items():
        assert np.array_equal(block, got_blocks[key]), key
    # Training: the same steps; losses within the bound the README documents for one-thread
    # workers ("Past one machine").
    for mine, theirs in zip(want_history, got_history, strict=True):
        assert [st for st, _ in mine] == [st for st, _ in theirs]
        assert np.allclose([v for _, v in mine], [v for _, v in theirs], rtol=1e-5, atol=0)
    # The work went through sbatch: the jobs are in Slurm's records.
    jobs = subprocess.run(
        ["scontrol", "show", "job"], env=slurm, capture_output=True, text=True, check=False
    )
    assert "JobName=dask-worker" in jobs.stdout


def test_a_wrong_partition_is_one_line_naming_the_setting(
    slurm: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DASK_JOBQUEUE__SLURM__QUEUE", "nosuch")
    with pytest.raises(
        UsageError,
        match=r"jobqueue\.slurm\.queue .*'nosuch': no such Slurm partition \(have: debug\)",
    ):
        api.session(None, scheduler="slurm")


def test_no_sbatch_on_path_is_one_line(
    slurm: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(UsageError, match="sbatch is not on PATH"):
        api.session(None, scheduler="slurm")


def test_jobs_that_never_start_end_in_one_line_after_the_wait(
    slurm: dict[str, str], tiny_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DASK_JOBQUEUE__SLURM__CORES", "64")  # more than the node has
    root = tmp_path / "store"
    shutil.copytree(tiny_store, root)
    session = api.session(root, scheduler="slurm", wait_workers=10)
    with pytest.raises(DataError, match=r"no Slurm job started within 10 s \(--wait-workers\)"):
        api.distances(session, metric="mse", config=DIST)
    session.close()


def test_cli_bad_slurm_setting_is_one_line(
    slurm: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DASK_JOBQUEUE__SLURM__MEMORY")
    code = "import sys; from percmusic_cli.cli.app import main; sys.argv[0] = 'percmusic'; main()"
    args = ["--store", str(tmp_path / "s"), "--scheduler", "slurm", "status"]
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=False
    )
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "jobqueue.slurm.memory" in lines[0], done.stderr
