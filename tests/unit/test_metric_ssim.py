"""1 - SSIM: the metric added through the registry alone (one module, these tests)."""

from __future__ import annotations

import numpy as np
import pytest
import pytorch_msssim
import torch

from percmusic_cli.config import DistanceConfig, MsssimConfig
from percmusic_cli.errors import ImageTooSmallError
from percmusic_cli.metrics import registry
from percmusic_cli.metrics.pairwise import MemoryTileSink, PairwiseEngine, compute_matrix
from percmusic_cli.metrics.ssim import one_minus_ssim


@pytest.mark.parametrize(
    ("shape", "config"),
    [((40, 57), MsssimConfig()), ((23, 31), MsssimConfig(win_size=11, win_sigma=2.0, k2=0.05))],
)
def test_equals_pytorch_msssim_ssim(shape: tuple[int, int], config: MsssimConfig) -> None:
    gen = torch.Generator().manual_seed(5)
    x = torch.rand(4, 1, *shape, generator=gen, dtype=torch.float64)
    y = (x + 0.2 * torch.rand(4, 1, *shape, generator=gen, dtype=torch.float64)).clamp(0, 1)
    want = 1.0 - pytorch_msssim.ssim(
        x,
        y,
        data_range=config.data_range,
        size_average=False,
        win_size=config.win_size,
        win_sigma=config.win_sigma,
        K=(config.k1, config.k2),
    )
    torch.testing.assert_close(one_minus_ssim(x, y, config), want, rtol=0, atol=1e-12)


def test_spec_uses_the_ms_ssim_settings_and_the_generic_path() -> None:
    spec = registry.get("ssim")
    assert spec.label == "1 - SSIM" and spec.fast_pairwise is None and not spec.study
    window = MsssimConfig(win_size=11)
    assert registry.settings(spec, DistanceConfig(metric="ssim", msssim=window)) is window
    assert registry.min_side(spec, window) == 11


def test_pairwise_matrix_equals_a_per_pair_loop() -> None:
    images = np.random.default_rng(2).random((7, 16, 21)).astype(np.float32)
    engine = PairwiseEngine(DistanceConfig(metric="ssim"), device="cpu")
    got = compute_matrix(engine, images, None, 3, MemoryTileSink())
    t = torch.from_numpy(images).double()[:, None]
    want = np.array(
        [[float(one_minus_ssim(t[i : i + 1], t[j : j + 1])) for j in range(7)] for i in range(7)]
    )
    np.fill_diagonal(want, 0.0)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


def test_too_small_images_and_gradients() -> None:
    with pytest.raises(ImageTooSmallError, match="at least 7 pixels"):
        one_minus_ssim(torch.rand(1, 1, 6, 30), torch.rand(1, 1, 6, 30))
    x = torch.rand(2, 1, 12, 12, requires_grad=True)
    one_minus_ssim(x, torch.rand(2, 1, 12, 12)).sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
