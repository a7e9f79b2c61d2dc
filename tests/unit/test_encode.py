"""Pooled latent features and the raw-spectrogram pooling control."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from percmusic_cli.config import ModelConfig
from percmusic_cli.errors import UsageError
from percmusic_cli.experiments.encode import (
    default_batch,
    encode_pooled,
    pool_images,
    pool_tensor,
)
from percmusic_cli.models.autoencoder import build_autoencoder

TINY = ModelConfig(hidden_channels=8, latent_channels=4, stages=2)


def test_meanstd_pooling_of_a_hand_made_latent() -> None:
    # One item, 2 channels, 2 rows, 4 time steps.
    z = torch.tensor(
        [
            [
                [[1.0, 1.0, 1.0, 1.0], [0.0, 2.0, 0.0, 2.0]],
                [[1.0, 2.0, 3.0, 4.0], [5.0, 5.0, 5.0, 5.0]],
            ]
        ]
    )
    pooled = pool_tensor(z, "meanstd")
    expected_mean = [1.0, 1.0, 2.5, 5.0]  # c0f0, c0f1, c1f0, c1f1
    expected_std = [0.0, 1.0, 1.25**0.5, 0.0]  # population std over time
    torch.testing.assert_close(pooled[0], torch.tensor(expected_mean + expected_std))
    torch.testing.assert_close(pool_tensor(z, "mean")[0], torch.tensor(expected_mean))


def test_encode_pooled_dims_and_values_for_an_odd_size() -> None:
    torch.manual_seed(0)
    model = build_autoencoder(TINY)
    images = np.random.default_rng(0).random((5, 64, 129), dtype=np.float32)
    features = encode_pooled(model, images, pool="meanstd", batch_size=2)
    assert features.shape == (5, 2 * 4 * 16)  # 2 stats x 4 channels x 64 / 4 rows
    assert features.dtype == np.float32
    with torch.no_grad():
        z = model.encode(torch.from_numpy(images[:, None]))
    manual = torch.cat([z.mean(-1).flatten(1), z.std(-1, unbiased=False).flatten(1)], 1)
    np.testing.assert_allclose(features, manual.numpy(), rtol=1e-4, atol=1e-6)
    assert not model.training


def test_encode_pooled_does_not_depend_on_the_batch_size() -> None:
    torch.manual_seed(0)
    model = build_autoencoder(TINY)
    images = np.random.default_rng(1).random((3, 1, 32, 40), dtype=np.float32)
    one = encode_pooled(model, images, pool="mean", batch_size=1)
    all_at_once = encode_pooled(model, images, pool="mean", batch_size=8)
    assert one.shape == (3, 4 * 8)
    np.testing.assert_allclose(one, all_at_once, rtol=1e-5, atol=1e-7)


def test_without_a_batch_size_a_cpu_encodes_two_tracks_at_a_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    torch.manual_seed(0)
    model = build_autoencoder(TINY)
    seen: list[int] = []
    encode = model.encode

    def counting(x: torch.Tensor) -> torch.Tensor:
        seen.append(x.shape[0])
        return encode(x)

    monkeypatch.setattr(model, "encode", counting)
    images = np.random.default_rng(2).random((5, 32, 40), dtype=np.float32)
    by_default = encode_pooled(model, images, pool="mean")
    assert seen == [2, 2, 1]
    assert default_batch("cpu") == 2 and default_batch("cuda") == 16
    at_once = encode_pooled(model, images, "mean", batch_size=5)
    np.testing.assert_allclose(by_default, at_once, rtol=1e-5, atol=1e-7)


def test_pool_images_is_per_band_mean_and_std_over_time() -> None:
    images = np.zeros((2, 3, 4), dtype=np.float32)
    images[0, 1] = [0.0, 1.0, 0.0, 1.0]
    images[1, 2] = 0.5
    pooled = pool_images(images)
    assert pooled.shape == (2, 6)
    np.testing.assert_allclose(pooled[0], [0.0, 0.5, 0.0, 0.0, 0.5, 0.0])
    np.testing.assert_allclose(pooled[1], [0.0, 0.0, 0.5, 0.0, 0.0, 0.0])
    assert pool_images(images, "mean").shape == (2, 3)


def test_unknown_pooling_and_bad_shapes_are_refused() -> None:
    with pytest.raises(UsageError, match="meanstd, mean"):
        pool_images(np.zeros((1, 4, 4), dtype=np.float32), "max")
    with pytest.raises(UsageError, match="expected images"):
        encode_pooled(build_autoencoder(TINY), np.zeros((2, 3, 8, 8), dtype=np.float32))
