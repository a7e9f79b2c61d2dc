"""Crash safety by fault injection: each long command is SIGKILLed at a random point (a
random crash-relevant event: an atomic rename, an fsync, a store connection before it
opens or after it commits), then `check` must pass and a rerun must end with results
identical to an uninterrupted run (tracks, arrays' sha256, model weights, run metrics
and predictions). The machinery lives in benchmarks/faults.py, which runs the same loop
many more times; here one or two kills per command on a 37-file dataset."""

from __future__ import annotations

import importlib.util
import json
import random
import shutil
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]


def _load_faults() -> ModuleType:
    spec = importlib.util.spec_from_file_location("faults", REPO / "benchmarks" / "faults.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["faults"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


faults = _load_faults()


@pytest.fixture(scope="module")
def ref(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Reference stores, built stage by stage only as far as the tests ask."""
    yield faults.make_reference(tmp_path_factory.mktemp("faults"))


def _kill_and_resume(ref: Any, command: str, seed: int, tmp_path: Path) -> None:
    outcome = faults.kill_and_resume(ref, command, "event", random.Random(seed), tmp_path)
    assert outcome.killed, outcome  # every event of an uninterrupted run is reachable
    assert outcome.check_ok, outcome.detail
    assert outcome.rerun_ok, outcome.detail
    assert outcome.identical, outcome.detail


@pytest.mark.slow
@pytest.mark.parametrize(("command", "seed"), [("ingest", 5), ("features", 6), ("features", 7)])
def test_kill_when_a_file_appears_then_rerun_is_identical(
    ref: Any, command: str, seed: int, tmp_path: Path
) -> None:
    """Death at the moment a temporary file, a part, an array or the database appears."""
    outcome = faults.kill_and_resume(ref, command, "file", random.Random(seed), tmp_path)
    assert outcome.killed, outcome
    assert outcome.check_ok and outcome.rerun_ok and outcome.identical, outcome.detail


@pytest.mark.slow  # kill-and-resume loops in subprocesses
@pytest.mark.parametrize(
    ("command", "seed"), [("ingest", 1), ("features", 2), ("features", 3), ("distances", 4)]
)
def test_kill_then_check_passes_and_rerun_is_identical(
    ref: Any, command: str, seed: int, tmp_path: Path
) -> None:
    _kill_and_resume(ref, command, seed, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("command", "seed"), [("distances", 5), ("train", 6), ("train", 7), ("classify", 8)]
)
def test_kill_heavier_commands(ref: Any, command: str, seed: int, tmp_path: Path) -> None:
    _kill_and_resume(ref, command, seed, tmp_path)


@pytest.mark.slow  # kill-and-resume loops in subprocesses
def test_kill_between_array_write_and_its_row_leaves_a_leftover_not_a_problem(
    ref: Any, tmp_path: Path
) -> None:
    """The narrowest window: the features array renamed into place, its row not yet
    committed. check passes and names it; the rerun rewrites it."""
    store = tmp_path / "store"
    shutil.copytree(ref.before("features"), store)
    args = ref.args["features"]
    # Events of one chunk-part write are fsync, replace-before, replace-after; the final
    # array's "replace-after" comes right before the store connection that records it.
    ref.upto("features")
    total = ref.events["features"]
    for at in range(total, 0, -1):
        shutil.rmtree(store)
        shutil.copytree(ref.before("features"), store)
        rc, _ = faults.run(store, args, {"PERCMUSIC_FAULT_AT": str(at)})
        assert rc == -signal.SIGKILL
        report = faults.check(store)
        if any(f["kind"] == "uncommitted" for f in report["leftovers"]):
            break
    else:
        pytest.fail("no kill point left an unrecorded array")
    assert report["ok"] and report["problems"] == []
    rc, err = faults.run(store, args)
    assert rc == 0, err
    assert faults.fingerprint(store) == ref.prints["features"]


@pytest.mark.slow  # three CLI stages in subprocesses; the kill tests share its stores
def test_fingerprint_tells_stages_apart(ref: Any) -> None:
    ref.upto("features")
    prints = ref.prints
    assert prints["features"] != prints["filter"]
    assert prints["features"]["arrays"] and not prints["filter"]["arrays"]


@pytest.mark.slow  # one more distances run in a subprocess, on the stores the kill tests share
def test_event_count_does_not_depend_on_numbas_cache(ref: Any, tmp_path: Path) -> None:
    """A kill point is drawn from the reference run's event count, so a rerun must go through
    the same events: numba writing freshly compiled kernels into a cold cache (os.replace)
    must not count, or a run with a warm cache never reaches the last events."""
    ref.upto("distances")
    store = tmp_path / "store"
    shutil.copytree(ref.before("distances"), store)
    counter = tmp_path / "count"
    env = {"PERCMUSIC_FAULT_COUNT": str(counter), "NUMBA_CACHE_DIR": str(tmp_path / "cold")}
    rc, err = faults.run(store, ref.args["distances"], env)
    assert rc == 0, err
    assert (tmp_path / "cold").is_dir()  # numba did compile into the cold cache
    assert json.loads(counter.read_text())["events"] == ref.events["distances"]
