"""Checkpoints: exact round trips, atomic saves, and refusal of pickles and garbage."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from percmusic_cli.config import ModelConfig, TrainConfig
from percmusic_cli.errors import ArrayIntegrityError
from percmusic_cli.models import checkpoint as ckpt_mod
from percmusic_cli.models.autoencoder import Autoencoder, build_autoencoder
from percmusic_cli.models.checkpoint import (
    _check_safetensors,
    checkpoints,
    load_checkpoint,
    save_checkpoint,
)

TINY = ModelConfig(hidden_channels=8, latent_channels=4, stages=2)


def _trained(seed: int = 0) -> tuple[Autoencoder, torch.optim.Adam]:
    torch.manual_seed(seed)
    model = build_autoencoder(TINY)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.rand(2, 1, 16, 16)
    for _ in range(2):
        loss = (model(x) - x).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model, optimizer


def _save(run: Path, step: int = 5) -> Path:
    model, optimizer = _trained()
    meta = {"step": step, "train_config": TrainConfig(), "loss_history": [(1, 0.5)]}
    extra = {"data_generator": torch.Generator().manual_seed(3).get_state()}
    return save_checkpoint(run, model, optimizer, meta, extra=extra)


def test_round_trip_gives_identical_outputs_optimizer_state_and_meta(tmp_path: Path) -> None:
    model, optimizer = _trained()
    gen_state = torch.Generator().manual_seed(3).get_state()
    meta = {
        "step": 7,
        "seed": 4,
        "train_config": TrainConfig(loss="mse"),
        "loss_history": [(1, 0.25)],
    }
    folder = save_checkpoint(tmp_path, model, optimizer, meta, extra={"gen": gen_state})
    assert folder.name == "ckpt-00000007"
    loaded = load_checkpoint(tmp_path)
    x = torch.rand(1, 1, 20, 36)
    with torch.no_grad():
        assert torch.equal(loaded.model(x), model(x))
    assert loaded.model.cfg == TINY
    assert loaded.step == 7
    assert loaded.meta["train_config"]["loss"] == "mse"
    assert loaded.meta["loss_history"] == [[1, 0.25]]
    assert loaded.meta["versions"]["torch"] == torch.__version__
    assert torch.equal(loaded.extra["gen"], gen_state)
    restored = torch.optim.Adam(loaded.model.parameters(), lr=1e-3)
    assert loaded.optimizer_state is not None
    restored.load_state_dict(loaded.optimizer_state)
    original, again = optimizer.state_dict(), restored.state_dict()
    for pid, entries in original["state"].items():
        for name, value in entries.items():
            assert torch.equal(again["state"][pid][name], value)
    assert again["param_groups"][0]["lr"] == original["param_groups"][0]["lr"]


def test_only_the_newest_checkpoint_is_kept_and_wins(tmp_path: Path) -> None:
    _save(tmp_path, step=2)
    _save(tmp_path, step=10)
    assert [p.name for p in checkpoints(tmp_path)] == ["ckpt-00000010"]
    assert load_checkpoint(tmp_path).step == 10


def test_crash_mid_save_leaves_the_previous_checkpoint_valid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _save(tmp_path, step=2)

    def crash(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt  # as if killed while writing the optimizer state

    monkeypatch.setattr(ckpt_mod, "_write_json", crash)
    with pytest.raises(KeyboardInterrupt):
        _save(tmp_path, step=4)
    monkeypatch.undo()
    assert load_checkpoint(tmp_path).step == 2
    assert not list(tmp_path.glob(".tmp-*"))


def test_a_leftover_temporary_folder_is_ignored(tmp_path: Path) -> None:
    _save(tmp_path, step=2)
    (tmp_path / ".tmp-ckpt-crashed").mkdir()
    (tmp_path / ".tmp-ckpt-crashed" / "meta.json").write_text("{half")
    assert load_checkpoint(tmp_path).step == 2


@pytest.mark.parametrize("name", ["model.safetensors", "optimizer.safetensors", "meta.json"])
def test_a_pickle_in_place_of_a_file_is_refused_naming_it(tmp_path: Path, name: str) -> None:
    folder = _save(tmp_path)
    (folder / name).write_bytes(pickle.dumps({"weights": [1, 2, 3]}))
    with pytest.raises(ArrayIntegrityError, match=rf"{name}.*refused.*pickle"):
        load_checkpoint(tmp_path)


def test_a_torch_save_file_is_refused_even_without_a_recorded_checksum(tmp_path: Path) -> None:
    folder = _save(tmp_path)
    meta = json.loads((folder / "meta.json").read_text())
    del meta["files"]["model.safetensors"]
    (folder / "meta.json").write_text(json.dumps(meta))
    torch.save({"w": torch.zeros(2)}, folder / "model.safetensors")
    with pytest.raises(ArrayIntegrityError, match=r"model.safetensors.*pickle"):
        load_checkpoint(tmp_path)


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("model.safetensors", "not a safetensors"),
        ("extra.safetensors", "not a safetensors"),
        ("optimizer.json", "sha256"),
        ("meta.json", "JSON"),
    ],
)
def test_garbage_in_place_of_a_file_is_refused(tmp_path: Path, name: str, why: str) -> None:
    folder = _save(tmp_path)
    (folder / name).write_bytes(b"\x00garbage\xff" * 10)
    with pytest.raises(ArrayIntegrityError, match=rf"{name}.*{why}"):
        load_checkpoint(tmp_path)


def test_garbage_safetensors_without_a_checksum_is_refused(tmp_path: Path) -> None:
    folder = _save(tmp_path)
    meta = json.loads((folder / "meta.json").read_text())
    del meta["files"]["model.safetensors"]
    (folder / "meta.json").write_text(json.dumps(meta))
    (folder / "model.safetensors").write_bytes(b"garbage!" * 8)
    with pytest.raises(ArrayIntegrityError, match=r"model.safetensors.*not a safetensors"):
        load_checkpoint(tmp_path)


def test_a_missing_checkpoint_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ArrayIntegrityError, match="no checkpoint"):
        load_checkpoint(tmp_path)


def test_a_safetensors_header_length_starting_with_0x80_is_not_taken_for_a_pickle(
    tmp_path: Path,
) -> None:
    path = tmp_path / "t.safetensors"
    for n in range(500, 800):
        save_file({"a": torch.zeros(1)}, str(path), metadata={"pad": "x" * n})
        if path.read_bytes()[:2] == b"\x80\x02":  # header length 640
            break
    head = path.read_bytes()[:2]
    assert head == b"\x80\x02"  # the bytes a protocol-2 pickle starts with
    _check_safetensors(path)  # must not raise


def test_a_safetensors_file_with_changed_bytes_fails_its_checksum(tmp_path: Path) -> None:
    folder = _save(tmp_path)
    data = bytearray((folder / "model.safetensors").read_bytes())
    data[-1] ^= 0xFF  # flip the last weight byte: still a valid safetensors file
    (folder / "model.safetensors").write_bytes(bytes(data))
    with pytest.raises(ArrayIntegrityError, match=r"model.safetensors.*sha256"):
        load_checkpoint(tmp_path)
