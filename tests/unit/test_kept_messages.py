"""Issue 19 item 4: the interrupt line says what a resumed command kept (not "nothing was
finished yet"), and a broken plugin's error carries no stray "(or all)"."""

from __future__ import annotations

from pathlib import Path

import pytest

from percmusic_cli import metric_names
from percmusic_cli.cli.app import _interrupted_line
from percmusic_cli.cli.state import GlobalOptions
from percmusic_cli.config import ModelConfig, TrainConfig
from percmusic_cli.errors import UsageError
from percmusic_cli.execution import Session
from percmusic_cli.experiments.train import train
from percmusic_cli.metrics import registry
from percmusic_cli.progress import NullReporter
from percmusic_cli.steps.distances import _KeptTiles, metric_list
from percmusic_cli.store import Store

TINY = ModelConfig(hidden_channels=4, latent_channels=2, stages=2)


def _cfg(steps: int) -> TrainConfig:
    return TrainConfig(
        loss="mse", steps=steps, batch_size=1, patch=16, checkpoint_every=3, device="cpu"
    )


class _StopAt:
    """A reporter whose bar raises Ctrl-C once `stop` real steps have run."""

    def __init__(self, stop: int) -> None:
        self.stop, self.steps = stop, 0

    def task(self, description: str, total: int | None, unit: str = "items") -> _StopAt:
        return self

    def advance(self, n: int = 1, info: str | None = None) -> None:
        if info is not None:  # a real step, not the resumed ones
            self.steps += 1
            if self.steps >= self.stop:
                raise KeyboardInterrupt

    def close(self) -> None:
        pass

    def log(self, message: str) -> None:
        pass

    def kept(self, message: str) -> None:
        pass


@pytest.mark.parametrize(("first", "stop"), [(3, 1), (6, 2), (7, 1)])
def test_a_resumed_training_interrupted_again_says_what_is_kept(
    tmp_path: Path, first: int, stop: int
) -> None:
    # `first` steps (checkpoints every 3), then a resumed run stopped before its next one.
    train(_cfg(20), TINY, tmp_path, stop_after=first)
    kept_step = first - first % 3
    session = Session(Store(tmp_path / "store"), _StopAt(stop))  # type: ignore[arg-type]
    with pytest.raises(KeyboardInterrupt):
        train(_cfg(20), TINY, tmp_path, reporter=session.reporter)
    assert session.last_kept() == f"mse checkpoint at step {kept_step} of 20 kept"
    assert _interrupted_line(GlobalOptions(session=session)) == (
        f"interrupted: mse checkpoint at step {kept_step} of 20 kept; "
        "rerun the same command to resume"
    )


@pytest.mark.parametrize("stored", [1, 3, 10])
def test_resumed_tiles_count_as_kept_before_any_new_tile(tmp_path: Path, stored: int) -> None:
    session = Session(Store(tmp_path / "store"), NullReporter())
    tiles = _KeptTiles(session.reporter, "mse test x train", 12)
    tiles.found(stored)
    assert session.last_kept() == f"{stored} of 12 distance tiles of mse test x train kept"
    tiles.saved(1)
    assert session.last_kept() == f"{stored + 1} of 12 distance tiles of mse test x train kept"


def test_a_broken_metric_says_why_without_or_all(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(metric_names, "names", lambda: ("mse", "nlpd", "broke"))
    monkeypatch.setitem(registry._broken, "broke", "import failed: boom")
    for arg in ("broke", "mse,broke"):
        with pytest.raises(UsageError) as caught:
            metric_list(arg)
        assert str(caught.value) == "metric 'broke' cannot be used: import failed: boom"


@pytest.mark.parametrize("arg", ["nope", "mse,nope", "ALL"])
def test_an_unknown_metric_lists_the_names_and_all(arg: str) -> None:
    with pytest.raises(UsageError) as caught:
        metric_list(arg)
    said = str(caught.value)
    assert said.startswith("unknown metric ") and said.endswith(" or all")
    assert "mse" in said and "(or all)" not in said
