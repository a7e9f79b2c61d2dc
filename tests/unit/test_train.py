"""Training: loss goes down, data draws, exact resumption after a kill, progress reports."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch

from percmusic_cli.config import ModelConfig, TrainConfig
from percmusic_cli.errors import DataError, UsageError
from percmusic_cli.experiments.train import _draw, train
from percmusic_cli.models.checkpoint import checkpoints, load_checkpoint

TINY = ModelConfig(hidden_channels=8, latent_channels=4, stages=2)


def _cfg(**kw: object) -> TrainConfig:
    base: dict[str, object] = {
        "loss": "nlpd",
        "steps": 10,
        "batch_size": 2,
        "patch": 32,
        "checkpoint_every": 3,
        "device": "cpu",
    }
    return TrainConfig(**{**base, **kw})  # type: ignore[arg-type]


class _Task:
    def __init__(self, log: list[tuple[str, object]]) -> None:
        self.log = log

    def advance(self, n: int = 1, info: str | None = None) -> None:
        self.log.append(("advance", (n, info)))

    def close(self) -> None:
        self.log.append(("close", None))


class _Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, object]] = []

    def task(self, description: str, total: int | None, unit: str = "items") -> _Task:
        self.events.append(("task", (description, total)))
        return _Task(self.events)

    def log(self, message: str) -> None:
        self.events.append(("log", message))

    def kept(self, message: str) -> None:
        self.events.append(("kept", message))


def _weights(run: Path) -> dict[str, torch.Tensor]:
    return load_checkpoint(run).model.state_dict()


@pytest.mark.parametrize("loss", ["mse", "nlpd"])
def test_loss_decreases_on_noise(tmp_path: Path, loss: str) -> None:
    result = train(_cfg(loss=loss, steps=80, batch_size=4, lr=3e-3), TINY, tmp_path)
    values = [v for _, v in result.loss_history]
    assert len(values) == 80
    first, last = np.mean(values[:10]), np.mean(values[-10:])
    assert last < 0.9 * first, (first, last)


def test_resume_after_a_kill_is_bit_identical_to_an_uninterrupted_run(tmp_path: Path) -> None:
    whole = train(_cfg(), TINY, tmp_path / "whole")
    killed = train(_cfg(), TINY, tmp_path / "split", stop_after=7)
    assert killed.steps == 7
    assert killed.checkpoint is not None and killed.checkpoint.name == "ckpt-00000006"
    resumed = train(_cfg(), TINY, tmp_path / "split")
    assert resumed.resumed_from == 6
    assert resumed.steps == 10
    assert resumed.loss_history == whole.loss_history
    a, b = _weights(tmp_path / "whole"), _weights(tmp_path / "split")
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert load_checkpoint(tmp_path / "split").meta["loss_history"] == [
        list(p) for p in whole.loss_history
    ]


def test_a_finished_run_is_not_trained_again(tmp_path: Path) -> None:
    first = train(_cfg(steps=4), TINY, tmp_path)
    again = train(_cfg(steps=4), TINY, tmp_path)
    assert again.resumed_from == 4
    assert again.loss_history == first.loss_history
    assert [p.name for p in checkpoints(tmp_path)] == ["ckpt-00000004"]


def test_different_seeds_give_different_weights(tmp_path: Path) -> None:
    train(_cfg(steps=2, seed=0), TINY, tmp_path / "a")
    train(_cfg(steps=2, seed=1), TINY, tmp_path / "b")
    a, b = _weights(tmp_path / "a"), _weights(tmp_path / "b")
    assert not all(torch.equal(a[k], b[k]) for k in a)


def test_resuming_under_another_config_is_refused(tmp_path: Path) -> None:
    train(_cfg(steps=3), TINY, tmp_path)
    with pytest.raises(UsageError, match="loss"):
        train(_cfg(steps=6, loss="mse"), TINY, tmp_path)
    with pytest.raises(UsageError, match="model config"):
        train(_cfg(steps=6), ModelConfig(hidden_channels=4, latent_channels=4, stages=2), tmp_path)


def test_progress_is_reported_with_the_loss(tmp_path: Path) -> None:
    recorder = _Recorder()
    train(_cfg(steps=3), TINY, tmp_path, reporter=recorder)
    assert recorder.events[0] == ("task", ("train nlpd", 3))
    infos = [e[1] for e in recorder.events if e[0] == "advance" and e[1][0] == 1]  # type: ignore[index]
    assert len(infos) == 3
    assert all(str(info[1]).startswith("loss ") for info in infos)  # type: ignore[index]
    assert recorder.events[-1] == ("close", None)


def test_spectrogram_patches_are_crops_of_the_given_images() -> None:
    n, h, w, p = 3, 40, 50, 32
    grid = np.arange(n)[:, None, None] * 10000 + np.arange(h)[:, None] * 100 + np.arange(w)
    images = torch.from_numpy(grid.astype(np.float32))
    gen = torch.Generator().manual_seed(0)
    batch = _draw(_cfg(batch_size=16, patch=p), gen, images)
    assert batch.shape == (16, 1, p, p)
    for crop in batch[:, 0]:
        corner = int(crop[0, 0])
        i, y, x = corner // 10000, corner // 100 % 100, corner % 100
        assert torch.equal(crop, images[i, y : y + p, x : x + p])


def test_training_on_spectrograms_runs_from_the_array(tmp_path: Path) -> None:
    images = np.random.default_rng(0).random((4, 36, 80), dtype=np.float32)
    result = train(_cfg(data="spectrograms", steps=3), TINY, tmp_path, spectrograms=images)
    assert result.steps == 3
    assert load_checkpoint(tmp_path).meta["train_config"]["data"] == "spectrograms"


def test_invalid_settings_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="needs a non-empty"):
        train(_cfg(data="spectrograms"), TINY, tmp_path)
    with pytest.raises(UsageError, match="exceeds the image size"):
        train(_cfg(data="spectrograms"), TINY, tmp_path, spectrograms=np.zeros((2, 16, 64)))
    with pytest.raises(UsageError, match="mse, msssim, nlpd"):
        train(_cfg(loss="l1"), TINY, tmp_path)
    with pytest.raises(UsageError, match="--patch 2: expected a whole number from 4"):
        train(_cfg(patch=2), TINY, tmp_path)
    with pytest.raises(UsageError, match="too small for the msssim loss: needs 97"):
        train(_cfg(loss="msssim", patch=64), TINY, tmp_path)
    with pytest.raises(UsageError, match="smaller than 2"):
        train(_cfg(patch=4), dataclasses.replace(TINY, stages=3), tmp_path)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_the_same_code_path_trains_on_cuda_with_mixed_precision(tmp_path: Path) -> None:
    result = train(_cfg(steps=4, device="cuda", amp=True), TINY, tmp_path)
    assert result.device == "cuda"
    assert len(result.loss_history) == 4
    assert all(np.isfinite(v) for _, v in result.loss_history)
    # The checkpoint loads on the CPU: weights are stored device-free.
    assert load_checkpoint(tmp_path, device="cpu").step == 4


def test_msssim_trains_through_train_on_patches_of_its_minimum_size(tmp_path: Path) -> None:
    # The default 1 - MS-SSIM (window 7, 5 scales) needs sides above 96 pixels.
    result = train(_cfg(loss="msssim", steps=2, batch_size=1, patch=112), TINY, tmp_path)
    assert [s for s, _ in result.loss_history] == [1, 2]
    assert all(0.0 < v <= 1.5 for _, v in result.loss_history)


def test_a_diverging_loss_stops_training_with_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def nan_loss(name: str) -> object:
        return lambda x_hat, x: (x_hat - x).sum() * float("nan")

    monkeypatch.setattr("percmusic_cli.experiments.train.loss_function", nan_loss)
    with pytest.raises(DataError, match=r"diverged at step 1.*loss nan") as err:
        train(_cfg(steps=3), TINY, tmp_path)
    assert err.value.exit_code == 2  # a data problem, not a usage error (issue 13)
    assert not list(tmp_path.glob("ckpt-*"))  # nothing of the diverged step is saved
