"""Issue 19 item 4: the interrupt line says what a resumed command kept (not "nothing was
finished yet"), and a broken plugin's error carries no stray "(or all)"."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from percmusic_cli import metric_names
from percmusic_cli.cli.app import _interrupted_line
from percmusic_cli.config import ModelConfig, TrainConfig
from percmusic_cli.errors import UsageError
from percmusic_cli.experiments.train import train
from percmusic_cli.metrics import registry
from percmusic_cli.progress import forget_kept, last_kept
from percmusic_cli.steps.distances import _KeptTiles, metric_list

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


@pytest.mark.parametrize(("first", "stop"), [(3, 1), (6, 2), (7, 1)])
def test_a_resumed_training_interrupted_again_says_what_is_kept(
    tmp_path: Path, first: int, stop: int
) -> None:
    # `first` steps (checkpoints every 3), then a resumed run stopped before its next one.
    train(_cfg(20), TINY, tmp_path, stop_after=first)
    kept_step = first - first % 3
    forget_kept()
    with pytest.raises(KeyboardInterrupt):
        train(_cfg(20), TINY, tmp_path, reporter=_StopAt(stop))  # type: ignore[arg-type]
    assert last_kept() == f"mse checkpoint at step {kept_step} of 20 kept"
    assert _interrupted_line() == (
        f"interrupted: mse checkpoint at step {kept_step} of 20 kept; "
        "rerun the same command to resume"
    )


class _Sink:
    def __init__(self, stored: int) -> None:
        self.tiles = {f"t{i}": np.zeros(1) for i in range(stored)}

    def has(self, key: str) -> bool:
        return key in self.tiles

    def load(self, key: str) -> np.ndarray:
        return self.tiles[key]

    def save(self, key: str, tile: np.ndarray) -> None:
        self.tiles[key] = tile


@pytest.mark.parametrize("stored", [1, 3, 10])
def test_resumed_tiles_count_as_kept_before_any_new_tile(stored: int) -> None:
    forget_kept()
    sink = _KeptTiles(_Sink(stored), "mse test x train", 12)  # type: ignore[arg-type]
    for i in range(stored + 1):
        sink.has(f"t{i}")
    assert last_kept() == f"{stored} of 12 distance tiles of mse test x train kept"


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
