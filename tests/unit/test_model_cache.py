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


def _fields() -> dict[str, Any]:
    return {k: v for k, v in asdict(CFG).items() if k not in ("device", "amp", "checkpoint_every")}


def test_a_reused_model_keeps_its_trivial_baseline(tmp_path: Path) -> None:
    first, _ = _train(tmp_path / "a")
    assert first["baseline_loss"] == pytest.approx(1 / 12)  # MSE on U(0, 1) noise
    doc = json.loads((cache.cache_root() / first["model_id"] / cache.MANIFEST).read_text())
    assert doc["baseline_loss"] == pytest.approx(first["baseline_loss"])
    second, _ = _train(tmp_path / "b")
    assert second["reused"] is True
    for key in ("final_loss", "baseline_loss", "loss_ratio", "learned"):
        assert second[key] == first[key], key
    stored = Store(tmp_path / "b")
    with stored.connect(read_only=True) as con:
        from percmusic_cli.store import models as sm

        row = sm.get_model(con, second["model_id"])
    assert row is not None and row["baseline_loss"] == pytest.approx(1 / 12)


def test_an_entry_from_before_baselines_has_its_baseline_measured_again(tmp_path: Path) -> None:
    first, _ = _train(tmp_path / "a")
    manifest = cache.cache_root() / first["model_id"] / cache.MANIFEST
    doc = json.loads(manifest.read_text())
    del doc["baseline_loss"]
    manifest.write_text(json.dumps(doc))
    second, _ = _train(tmp_path / "b")
    assert second["reused"] is True and second["baseline_loss"] == first["baseline_loss"]


def _tamper(entry: Path, change: Any) -> None:
    doc = json.loads((entry / cache.MANIFEST).read_text())
    change(doc, entry)
    (entry / cache.MANIFEST).write_text(json.dumps(doc))


def _escape(doc: dict[str, Any], entry: Path) -> None:
    outside = entry.parent.parent / "outside"
    outside.mkdir(exist_ok=True)
    folder = entry / doc["checkpoint"]
    for f in folder.iterdir():
        (outside / f.name).write_bytes(f.read_bytes())
    doc["checkpoint"] = "../../outside"


def _drop_meta(doc: dict[str, Any], entry: Path) -> None:
    del doc["files"]["meta.json"]
    (entry / doc["checkpoint"] / "meta.json").unlink()


def _unlisted_file(doc: dict[str, Any], entry: Path) -> None:
    (entry / doc["checkpoint"] / "notes.txt").write_text("not listed")


def _linked_file(doc: dict[str, Any], entry: Path) -> None:
    target = entry / doc["checkpoint"] / "meta.json"
    real = entry.parent / "meta-elsewhere.json"
    real.write_bytes(target.read_bytes())
    target.unlink()
    target.symlink_to(real)


def _file_name_escapes(doc: dict[str, Any], entry: Path) -> None:
    doc["files"]["../../evil"] = doc["files"]["meta.json"]


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (_escape, "not a plain folder name"),
        (_drop_meta, "lacks meta.json"),
        (_unlisted_file, "differ (notes.txt)"),
        (_linked_file, "not a regular file"),
        (_file_name_escapes, "not a map of plain file names"),
    ],
)
def test_a_tampered_entry_is_ignored_with_one_line_and_retrained(
    tmp_path: Path, change: Any, said: str
) -> None:
    first, _ = _train(tmp_path / "a")
    entry = cache.cache_root() / first["model_id"]
    _tamper(entry, change)
    found, problem = cache.find(first["model_id"], _fields(), asdict(TINY))
    assert found is None and problem is not None and said in problem
    again, messages = _train(tmp_path / "b")
    assert again["reused"] is False and again["status"] == "done"
    warned = [m for m in messages.messages if "model cache entry" in m and "ignored" in m]
    assert len(warned) == 1 and said in warned[0] and "\n" not in warned[0]
    assert not (tmp_path / "b").parent.joinpath("outside", "meta.json").is_symlink()
    assert cache.fetch(first["model_id"], _fields(), asdict(TINY)) is not None  # rewritten
