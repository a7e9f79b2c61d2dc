"""Ctrl-C (SIGINT) and SIGTERM stop a command with one line saying what was kept, and
exit 130; the command runs in a real subprocess so the signal is real."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from clitools import empty_store

REPO = Path(__file__).resolve().parents[2]
# A child of a background job inherits SIGINT ignored; restore Python's Ctrl-C handler so
# the test's SIGINT arrives as it does from a terminal.
MAIN = (
    "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "from percmusic_cli.cli.app import main; sys.argv[0] = 'percmusic'; main()"
)
TINY = ["--steps", "100000", "--batch", "1", "--patch", "16", "--hidden", "2", "--latent", "1"]


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_training_says_which_checkpoint_is_kept(
    tmp_path: Path, sig: signal.Signals
) -> None:
    store = empty_store(tmp_path / "store")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PERCMUSIC_MODEL_CACHE": str(tmp_path / "c")}
    cmd = [sys.executable, "-c", MAIN, "--store", str(store), "-q", "train", "--loss", "mse"]
    proc = subprocess.Popen(
        [*cmd, *TINY, "--device", "cpu"], cwd=REPO, env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 240  # a busy 2-core machine needs ~90 s here
        # The first checkpoint (step 250) is on disk: from then on something is kept.
        while not list((store / "checkpoints").glob("*/*250*")):
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline
            time.sleep(0.1)
        proc.send_signal(sig)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, stderr
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("interrupted: mse checkpoint at step ")
    assert last.endswith(" of 100000 kept; rerun the same command to resume")
    step = int(last.split("step ")[1].split(" of")[0])
    assert step >= 250 and step % 250 == 0


def test_distance_tiles_record_how_many_are_kept(tmp_path: Path) -> None:
    from percmusic_cli import api
    from percmusic_cli.cli.app import _interrupted_line
    from percmusic_cli.cli.state import GlobalOptions
    from percmusic_cli.steps.distances import _KeptTiles

    opts = GlobalOptions(session=api.session(tmp_path / "store"))
    assert opts.session is not None
    assert _interrupted_line(opts).startswith("interrupted: nothing was finished yet")
    tiles = _KeptTiles(opts.session.reporter, "nlpd valid x train", 4)
    tiles.found(1)  # one tile from an earlier run
    tiles.saved(1)
    assert opts.session.last_kept() == "2 of 4 distance tiles of nlpd valid x train kept"
    assert _interrupted_line(opts) == (
        "interrupted: 2 of 4 distance tiles of nlpd valid x train kept; "
        "rerun the same command to resume"
    )
