"""On real GTZAN tracks, when PERCMUSIC_GTZAN_DIR points at some (skips otherwise)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from percmusic_cli import api
from percmusic_cli.audio import decode, fit_frames, logmel_reference
from percmusic_cli.config import KnnConfig, SpectrogramConfig
from percmusic_cli.steps.features import load_features

GTZAN = os.environ.get("PERCMUSIC_GTZAN_DIR")
pytestmark = [
    pytest.mark.realdata,
    pytest.mark.skipif(
        not GTZAN or not Path(GTZAN).is_dir(),
        reason="set PERCMUSIC_GTZAN_DIR to a folder of GTZAN tracks",
    ),
]


def test_real_tracks_ingest_features_and_knn(tmp_path: Path) -> None:
    assert GTZAN is not None
    store = api.open_store(tmp_path / "store")
    summary = api.ingest(store, Path(GTZAN))
    assert summary.kind == "gtzan" and summary.failed == 0
    assert summary.md5.get("verified", 0) == summary.ok  # the dev tracks are genuine
    api.split(store, method="random", seed=0, ratios="0.4,0.2,0.4")
    feats = api.features(store, device="cpu")
    assert (feats.n_mels, feats.n_frames) == (128, 1290) and feats.padded == 0
    fs, images = load_features(store, feats.feature_hash)
    first = sorted(Path(GTZAN).rglob(f"{fs.track_ids[0]}.wav"))[0]
    expected, _ = fit_frames(logmel_reference(decode(first).samples, SpectrogramConfig()), 1290)
    np.testing.assert_allclose(images[0], expected, atol=1e-4)
    (run,) = api.knn(store, metric="mse", config=KnnConfig(n_boot=200))
    assert run["test_f1_low"] <= run["test_f1"] <= run["test_f1_high"]
