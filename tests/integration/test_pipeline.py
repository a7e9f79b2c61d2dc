"""The whole study through the api on the tiny GTZAN-shaped tree: every stage, reuse,
and the controls."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from trees import TinyTree, build_gtzan_tree

from percmusic_cli import api
from percmusic_cli.audio import decode, fit_frames, logmel_reference
from percmusic_cli.config import (
    PRESETS,
    ClassifyConfig,
    KnnConfig,
    ModelConfig,
    SpectrogramConfig,
    TrainConfig,
)
from percmusic_cli.steps.features import load_features
from percmusic_cli.store import Store

TINY_MODEL = ModelConfig(hidden_channels=4, latent_channels=2, stages=2)
TINY_TRAIN = TrainConfig(
    loss="nlpd", steps=4, batch_size=1, patch=128, checkpoint_every=2, device="cpu"
)


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> TinyTree:
    return build_gtzan_tree(tmp_path_factory.mktemp("tree") / "gtzan")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, tree: TinyTree) -> Store:
    s = api.open_store(tmp_path_factory.mktemp("store"))
    api.ingest(s, tree.root)
    api.split(s, method="fault-filtered")  # too thin for auto to pick it
    api.features(s, n_frames=128, device="cpu")
    return s


def test_features_match_the_reference_and_record_padding(store: Store, tree: TinyTree) -> None:
    status = api.status(store)
    (fs,) = status["datasets"][0]["feature_sets"]
    feature_set, images = load_features(store, fs["feature_hash"])
    assert images.shape == (len(tree.good), 128, 128) and images.dtype == np.float32
    assert all(feature_set.padded)  # 1.5 s clips fill 65 of 128 frames
    row = feature_set.track_ids.index("blues.00029")
    path = next(tree.root.rglob("blues.00029.wav"))
    cfg = SpectrogramConfig(n_frames=128)
    expected, padded = fit_frames(logmel_reference(decode(path).samples, cfg), 128)
    assert padded
    np.testing.assert_allclose(images[row], expected, atol=1e-4)


def test_features_are_reused_when_nothing_changed(store: Store) -> None:
    again = api.features(store, n_frames=128, device="cpu")
    assert again.reused
    other = api.features(store, n_frames=96, device="cpu")
    assert not other.reused and other.feature_hash != again.feature_hash
    api.features(store, n_frames=128, device="cpu")  # back to the 128-frame set


def test_knn_all_metrics_give_runs_with_predictions(store: Store) -> None:
    rows = api.knn(store, config=KnnConfig(n_boot=100))
    assert [r["metric"] for r in rows] == ["mse", "msssim", "nlpd"]
    for r in rows:
        detail = api.run_detail(store, r["run_id"])
        assert len(detail["predictions"]) == 10
        assert detail["config"]["knn"]["n_boot"] == 100
        assert detail["versions"]["torch"].startswith("2.")
        assert 0.0 <= r["test_f1"] <= 1.0


@pytest.mark.slow  # trains autoencoders
def test_train_classify_controls_and_latent_cache(store: Store) -> None:
    model = api.train(store, TINY_TRAIN, TINY_MODEL)
    assert model["status"] == "done" and model["steps_done"] == 4
    assert not model["reused"]
    assert api.train(store, TINY_TRAIN, TINY_MODEL)["reused"]
    history = api.loss_history(store, model["model_id"])
    assert [s for s, _ in history] == [1, 2, 3, 4]
    cfg = ClassifyConfig(n_boot=50, device="cpu", batch_size=4)
    rows = api.classify(store, model["model_id"][:12], cfg)
    assert [r["metric"] for r in rows] == ["nlpd", "raw", "untrained"]
    assert all(not r["reused"] for r in rows)
    again = api.classify(store, model["model_id"], cfg)
    assert all(r["reused"] for r in again)
    assert [r["test_f1"] for r in again] == [r["test_f1"] for r in rows]
    forced = api.classify(store, model["model_id"], cfg, force=True)
    assert [r["test_f1"] for r in forced] == [r["test_f1"] for r in rows]  # cached latents


@pytest.mark.slow  # trains autoencoders
def test_reproduce_table_with_a_tiny_preset(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(PRESETS, "tiny", (dataclasses.replace(TINY_TRAIN, steps=2), TINY_MODEL))
    table = api.reproduce(store, preset="tiny", device="cpu")
    assert [r["metric"] for r in table["rows"]] == ["mse", "msssim", "nlpd"]
    assert [c["metric"] for c in table["controls"]] == ["raw", "untrained"]
    assert len({r["model_id"] for r in table["rows"]}) == 3
    again = api.reproduce(store, preset="tiny", device="cpu")
    assert all(r["knn"]["reused"] and r["latent"]["reused"] for r in again["rows"])
    assert all(c["reused"] for c in again["controls"])
    assert again["rows"][2]["latent"]["test_f1"] == table["rows"][2]["latent"]["test_f1"]
    assert len(table["claims"]) == 12 and table["claims"] == again["claims"]
    assert all(c["low"] <= c["high"] and c["p_holm"] >= c["p"] for c in table["claims"])
    assert set(table["learning"]) == {"mse", "msssim", "nlpd"}
    assert api.latest_study(store) == json.loads(json.dumps(again))
    # No batch size was given: the run records the one its device encoded in.
    latent = api.run_detail(store, table["rows"][0]["latent"]["run_id"])
    assert latent["config"]["classify"]["batch_size"] == 2


def test_synthetic_ingest_through_the_cli(cli: object, tmp_path: Path) -> None:
    from clitools import Cli

    assert isinstance(cli, Cli)
    summary = cli.json("ingest", "--synthetic", "--clips-per-class", "2")
    assert summary["dataset"] == "synthetic" and summary["ok"] == 20
    assert summary["failed"] == 0
