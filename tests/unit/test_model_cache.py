"""Noise-trained autoencoders go into the user-level model cache and a second store reuses
them (verified by sha256) instead of retraining; a damaged entry is retrained over."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from percmusic_cli.config import ModelConfig, TrainConfig
from percmusic_cli.models import cache
from percmusic_cli.models.checkpoint import load_checkpoint
from percmusic_cli.progress import NullReporter
from percmusic_cli.steps.train import train_model
from percmusic_cli.store import Store

CFG = TrainConfig(loss="mse", steps=3, batch_size=1, patch=16, checkpoint_every=3, device="cpu")
TINY = ModelConfig(hidden_channels=4, latent_channels=2, stages=2)


def _train(root: Path) -> tuple[dict[str, Any], NullReporter]:
    reporter = NullReporter()
    store = Store(root)
    with store.writer(0, "test"):
        return train_model(store, CFG, TINY, None, reporter), reporter


def test_cache_root_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERCMUSIC_MODEL_CACHE", "/somewhere/else")
    assert cache.cache_root() == Path("/somewhere/else")
    monkeypatch.delenv("PERCMUSIC_MODEL_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", "/xdg")
    assert cache.cache_root() == Path("/xdg/percmusic/models")


def test_second_store_reuses_the_cached_model(tmp_path: Path) -> None:
    first, said = _train(tmp_path / "a")
    assert first["reused"] is False
    entry = cache.cache_root() / first["model_id"]
    assert any("kept in the model cache" in m for m in said.messages)
    doc = json.loads((entry / cache.MANIFEST).read_text())
    assert set(doc["files"]) >= {"model.safetensors", "meta.json"}

    second, said = _train(tmp_path / "b")
    assert second["reused"] is True and second["status"] == "done"
    assert second["model_id"] == first["model_id"]
    assert any("reused from the model cache" in m and "not retrained" in m for m in said.messages)
    a = load_checkpoint(tmp_path / "a" / "checkpoints" / first["model_id"])
    b = load_checkpoint(tmp_path / "b" / "checkpoints" / second["model_id"])
    assert a.step == b.step == 3
    for key, value in a.model.state_dict().items():
        assert (value == b.model.state_dict()[key]).all()


def test_a_damaged_entry_is_not_used(tmp_path: Path) -> None:
    first, _ = _train(tmp_path / "a")
    entry = cache.cache_root() / first["model_id"]
    (weights,) = entry.glob("ckpt-*/model.safetensors")
    fields = {
        k: v for k, v in asdict(CFG).items() if k not in ("device", "amp", "checkpoint_every")
    }
    assert cache.fetch(first["model_id"], fields, asdict(TINY)) is not None
    weights.write_bytes(weights.read_bytes()[:-1] + bytes([weights.read_bytes()[-1] ^ 1]))
    assert cache.fetch(first["model_id"], fields, asdict(TINY)) is None
    again, said = _train(tmp_path / "b")
    assert again["reused"] is False  # trained here, and the entry is written afresh
    assert not any("reused from the model cache" in m for m in said.messages)
    (weights,) = entry.glob("ckpt-*/model.safetensors")
    doc = json.loads((entry / cache.MANIFEST).read_text())
    from percmusic_cli.hashing import file_digest

    assert file_digest(weights) == doc["files"]["model.safetensors"]
