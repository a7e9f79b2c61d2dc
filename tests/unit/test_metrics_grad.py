"""The metrics as losses: gradients agree with finite differences (float64)."""

from __future__ import annotations

import torch
from torch.autograd import gradcheck

from percmusic_cli.config import MsssimConfig, NlpdConfig
from percmusic_cli.metrics.mse import mse
from percmusic_cli.metrics.msssim import one_minus_msssim
from percmusic_cli.metrics.nlpd import nlpd


def _pair(h: int, w: int, seed: int, batch: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    x = torch.rand(batch, 1, h, w, generator=gen, dtype=torch.float64)
    noise = torch.rand(batch, 1, h, w, generator=gen, dtype=torch.float64)
    return x.requires_grad_(True), (0.6 * x + 0.4 * noise).detach()


def test_mse_gradcheck() -> None:
    x, y = _pair(5, 7, 0)
    assert gradcheck(lambda a: mse(a, y), (x,))


def test_nlpd_gradcheck_small_pyramid() -> None:
    x, y = _pair(9, 10, 1, batch=1)
    cfg = NlpdConfig(levels=3)
    assert gradcheck(lambda a: nlpd(a, y, cfg), (x,))


def test_nlpd_gradcheck_default_levels() -> None:
    x, y = _pair(17, 21, 2)
    assert gradcheck(lambda a: nlpd(a, y), (x,), fast_mode=True)


def test_msssim_gradcheck_small_config() -> None:
    x, y = _pair(9, 11, 3, batch=1)
    cfg = MsssimConfig(win_size=3, weights=(0.4, 0.6))
    assert gradcheck(lambda a: one_minus_msssim(a, y, cfg), (x,))


def test_msssim_gradcheck_default_config() -> None:
    x, y = _pair(97, 101, 4)
    assert gradcheck(lambda a: one_minus_msssim(a, y), (x,), fast_mode=True)


def test_nlpd_gradient_of_identical_images_is_zero_not_nan() -> None:
    x = torch.rand(1, 1, 20, 20, dtype=torch.float64, requires_grad=True)
    nlpd(x, x.detach().clone()).sum().backward()
    assert x.grad is not None
    assert torch.all(x.grad == 0)


def test_losses_decrease_along_negative_gradient() -> None:
    x, y = _pair(97, 100, 5)
    for fn in (mse, nlpd, one_minus_msssim):
        a = x.detach().clone().requires_grad_(True)
        loss = fn(a, y).sum()
        loss.backward()
        assert a.grad is not None
        stepped = fn(a.detach() - 1e-3 * a.grad / a.grad.norm(), y).sum()
        assert float(stepped) < float(loss.detach())
