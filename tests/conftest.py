"""Shared fixtures: tiny audio trees written on the fly (no test needs ../shared).

`tiny_gtzan_tree`: `<root>/genres/<g>/<g>.NNNNN.wav`, three 1.5 s clips per genre (one
train, one valid, one test track of the fault-filtered split), plus one broken file of
each kind (names in `TinyTree.broken`, with a word its DecodeError reason contains) and
one non-audio file. `tiny_folder_tree`: a generic `<label>/<file>` tree with odd label
names, several formats, an empty label folder, a stray file and a duplicate track id.
"""

from __future__ import annotations

import dataclasses
import gc
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
import soundfile as sf
from clitools import Cli
from suite_order import LONGEST_FIRST
from trees import (
    BROKEN_KINDS,
    SR,
    TinyTree,
    build_gtzan_tree,
    tone_clip,
    write_broken,
    write_wav,
)
from typer.testing import CliRunner

if TYPE_CHECKING:
    from fixture_store import StoreCopies

# pytest keeps the test modules' assert-rewritten bytecode in __pycache__ (ignored by git)
# only when bytecode may be written; with PYTHONDONTWRITEBYTECODE set, as on this machine
# and in .ci/run, every xdist worker rewrote every test module on every run (3-4 s each).
# Set here, before pytest imports the test modules.
sys.dont_write_bytecode = False


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {path: i for i, path in enumerate(LONGEST_FIRST)}
    # A stable sort: each file's tests stay together and in their order.
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))


def pytest_collection_finish(session: pytest.Session) -> None:
    """Import what nearly every worker imports anyway (torch through `_one_torch_thread`,
    scikit-learn through every run, matplotlib through the figures), then move all that is
    alive (those libraries, the tests' modules) out of the garbage collector's sight: it
    lives until the process ends, and each full collection scanned all of it. Measured
    with gc.callbacks on the fast suite: 18-23 full collections per worker took 6-10 s."""
    import matplotlib.pyplot  # noqa: F401
    import sklearn.linear_model  # noqa: F401
    import torch  # noqa: F401

    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 10, 10)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Collect once, then freeze what is left: pytest then collects five more times as the
    session ends (to report exceptions in finalizers), and each full collection scanned the
    whole heap the tests built. Garbage is still finalized, here, under pytest's hook."""
    gc.collect()
    gc.freeze()


@pytest.fixture(scope="session", autouse=True)
def _quick_textual_idle() -> Iterator[None]:
    """The dashboard tests' pilots poll for idle every 2.5 ms, not 20 (tests/pilots.py)."""
    from pilots import quick_idle

    with quick_idle():
        yield


@pytest.fixture
def tiny_gtzan_tree(tmp_path: Path) -> TinyTree:
    return build_gtzan_tree(tmp_path / "gtzan")


@pytest.fixture
def tiny_folder_tree(tmp_path: Path) -> TinyTree:
    root = tmp_path / "my data"
    tree = TinyTree(root=root)
    labels = {"birds": 880.0, "dögs café": 220.0, "jazz.fusion": 440.0}
    for i, (label, freq) in enumerate(labels.items()):
        for j in range(3):
            track = f"{label}/clip {j}"
            write_wav(root / label / f"clip {j}.wav", tone_clip(freq * (1 + 0.05 * j), seed=i), SR)
            tree.good.append(track)
            tree.labels[track] = label
    # Other formats and rates: FLAC at 44.1 kHz stereo, OGG Vorbis.
    stereo = np.stack([tone_clip(880.0, sr=44100), tone_clip(660.0, sr=44100)], axis=1)
    sf.write(str(root / "birds" / "stereo.flac"), stereo, 44100, format="FLAC")
    sf.write(str(root / "birds" / "vorbis.ogg"), tone_clip(990.0), SR, format="OGG")
    tree.good += ["birds/stereo", "birds/vorbis"]
    tree.labels.update({"birds/stereo": "birds", "birds/vorbis": "birds"})
    # A second file with the id of one already there: reported, not ingested twice.
    sf.write(str(root / "birds" / "clip 0.flac"), tone_clip(500.0), SR, format="FLAC")
    write_broken(root / "jazz.fusion" / "broken.wav", "garbage")
    tree.broken["jazz.fusion/broken"] = BROKEN_KINDS["garbage"]
    tree.labels["jazz.fusion/broken"] = "jazz.fusion"
    (root / "empty label").mkdir()
    (root / "dögs café" / "cover.jpg").write_bytes(b"\xff\xd8\xff")
    (root / "stray.wav").write_bytes(b"")
    tree.non_audio += [root / "dögs café" / "cover.jpg"]
    os.makedirs(root / ".hidden", exist_ok=True)
    return tree


@pytest.fixture(autouse=True)
def _one_torch_thread() -> Iterator[None]:
    """One torch thread per test (restored after): tests run many small operations, and
    on 2 shared cores a thread pool only adds wake-up latency (several times slower)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# CLI fixtures ----------------------------------------------------------------------


def _build_click_command_once() -> None:
    """Typer turns the app into a Click command on every `CliRunner.invoke`: ~90 ms of
    signature and annotation evaluation per call, more than most commands take on a tiny
    store. The app is fixed once imported (its options read registries when they run, not
    when built), so the tests build each app's command once per process."""
    import typer.testing

    build = typer.testing._get_command
    built: dict[int, tuple[object, Any]] = {}

    def once(app: Any) -> Any:
        hit = built.get(id(app))
        if hit is None or hit[0] is not app:
            hit = built[id(app)] = (app, build(app))
        return hit[1]

    typer.testing._get_command = once


_build_click_command_once()


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path / "store", CliRunner())


# No test may write the user's model cache (~/.cache/percmusic/models): module-scoped
# fixtures get one for the session, each test its own (so no test reuses another's model).
os.environ["PERCMUSIC_MODEL_CACHE"] = tempfile.mkdtemp(prefix="percmusic-test-model-cache-")


@pytest.fixture(autouse=True)
def _own_model_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERCMUSIC_MODEL_CACHE", str(tmp_path / "model-cache"))


@pytest.fixture(scope="module")
def gtzan_tree(tmp_path_factory: pytest.TempPathFactory) -> TinyTree:
    return build_gtzan_tree(tmp_path_factory.mktemp("tree") / "gtzan")


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory, gtzan_tree: TinyTree) -> Cli:
    """Ingested, fault-filtered, 128 x 128 features, MSE and NLPD KNN runs."""
    c = Cli(tmp_path_factory.mktemp("study") / "store", CliRunner())
    steps: list[tuple[str, ...]] = [
        ("ingest", str(gtzan_tree.root)),
        # One train, valid and test track per genre: too thin for `auto` to pick it.
        ("filter", "--split", "fault-filtered"),
        ("features", "--frames", "128"),
        ("knn", "--metric", "mse", "--n-boot", "200"),
        ("knn", "--metric", "nlpd", "--n-boot", "200"),
    ]
    for args in steps:
        result = c(*args)
        assert result.exit_code == 0, (args, result.output)
    return c


@pytest.fixture
def short_quick_preset(monkeypatch: pytest.MonkeyPatch) -> None:
    """The quick preset with 20 training steps instead of 200: for tests of the study's
    wiring (what runs, what is stored and shown), not of what training learns, which
    tests/unit/test_train.py and test_models.py check. Still named "quick"."""
    from percmusic_cli.config import PRESETS

    train, model = PRESETS["quick"]
    short = dataclasses.replace(train, steps=20, checkpoint_every=10)
    monkeypatch.setitem(PRESETS, "quick", (short, model))


@pytest.fixture(scope="session")
def store_copies(tmp_path_factory: pytest.TempPathFactory) -> StoreCopies:
    """`store_copies.copy(root, labels)`: a fixture store (tests/fixture_store.py) of its own
    for a test, built once per label set and worker, then copied."""
    from fixture_store import StoreCopies

    return StoreCopies(tmp_path_factory.mktemp("store-templates"))
