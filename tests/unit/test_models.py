"""The autoencoder, its GDN layers and its losses, on tiny models and images."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from percmusic_cli.config import ModelConfig, MsssimConfig
from percmusic_cli.errors import UsageError
from percmusic_cli.models.autoencoder import build_autoencoder
from percmusic_cli.models.gdn import GDN
from percmusic_cli.models.losses import loss_function, loss_names

TINY = ModelConfig(hidden_channels=8, latent_channels=4, stages=2)


# Three scales of window 7 need sides above 24 pixels: fits 32 x 32 test patches.
SMALL_MSSSIM = MsssimConfig(weights=(0.3, 0.4, 0.3))


def test_gdn_parameters_stay_non_negative_after_any_update() -> None:
    gdn = GDN(3)
    with torch.no_grad():
        gdn.beta_raw.fill_(-5.0)
        gdn.gamma_raw.fill_(-5.0)
    assert torch.all(gdn.beta >= 1e-6 - 1e-12)
    assert torch.all(gdn.gamma >= 0)
    y = gdn(torch.randn(2, 3, 4, 4))
    assert torch.isfinite(y).all()


def test_gdn_lower_bound_lets_a_clamped_parameter_climb_back() -> None:
    gdn = GDN(2)
    with torch.no_grad():
        gdn.beta_raw.fill_(-1.0)
    # A loss that wants beta larger gives a negative gradient: it must reach the raw value.
    (-gdn.beta.sum()).backward()
    assert gdn.beta_raw.grad is not None
    assert torch.all(gdn.beta_raw.grad < 0)


def test_gdn_divides_and_igdn_multiplies_by_the_same_norm() -> None:
    x = torch.randn(1, 2, 3, 3)
    forward, inverse = GDN(2), GDN(2, inverse=True)
    norm = torch.sqrt(1.0 + 0.1 * x**2)  # the initial beta = 1, gamma = 0.1 I
    torch.testing.assert_close(forward(x), x / norm, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(inverse(x), x * norm, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("nonlinearity", ["gdn", "relu", "gelu"])
def test_encode_and_forward_shapes_for_sizes_not_a_multiple_of_the_stride(
    nonlinearity: str,
) -> None:
    model = build_autoencoder(ModelConfig(**{**TINY.__dict__, "nonlinearity": nonlinearity}))
    x = torch.rand(2, 1, 64, 129)
    z = model.encode(x)
    assert z.shape == (2, 4, 16, 33)  # ceil(129 / 4) = 33
    out = model(x)
    assert out.shape == x.shape
    assert torch.all((out > 0) & (out < 1))


def test_padding_is_edge_replication_on_the_right_and_bottom() -> None:
    model = build_autoencoder(TINY)
    x = torch.rand(1, 1, 30, 61)
    padded = F.pad(x, (0, 3, 0, 2), mode="replicate")
    torch.testing.assert_close(model.encode(x), model.encode(padded))


def test_default_model_encodes_a_whole_spectrogram() -> None:
    model = build_autoencoder(ModelConfig())
    with torch.no_grad():
        z = model.encode(torch.rand(1, 1, 128, 1290))
    assert z.shape == (1, 32, 8, 81)


def test_too_small_images_and_bad_configs_are_refused() -> None:
    model = build_autoencoder(TINY)
    with pytest.raises(UsageError, match="at least 4 pixels"):
        model.encode(torch.rand(1, 1, 3, 40))
    with pytest.raises(UsageError, match="gdn, relu, gelu"):
        build_autoencoder(ModelConfig(nonlinearity="tanh"))
    with pytest.raises(UsageError, match="odd"):
        build_autoencoder(ModelConfig(kernel_size=4))


def test_unknown_loss_names_the_choices() -> None:
    with pytest.raises(UsageError, match="mse, msssim, nlpd, ssim"):
        loss_function("foo")


def _smooth_batch() -> torch.Tensor:
    gen = torch.Generator().manual_seed(1)
    x = torch.rand(2, 1, 32, 32, generator=gen)
    return F.avg_pool2d(F.pad(x, (2, 2, 2, 2), mode="replicate"), 5, 1)


@pytest.mark.parametrize("name", loss_names())
def test_tiny_model_overfits_one_fixed_batch(name: str) -> None:
    torch.manual_seed(0)
    x = _smooth_batch()
    model = build_autoencoder(TINY)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    loss_fn = loss_function(name, msssim=SMALL_MSSSIM)
    with torch.no_grad():
        first = float(loss_fn(model(x), x))
    for _ in range(150):
        loss = loss_fn(model(x), x)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        last = float(loss_fn(model(x), x))
    assert last < 0.4 * first, (first, last)


def test_losses_are_zero_for_a_perfect_reconstruction_and_scalar() -> None:
    x = _smooth_batch()
    for name in loss_names():
        value = loss_function(name, msssim=SMALL_MSSSIM)(x, x)
        assert value.ndim == 0
        assert float(value) == pytest.approx(0.0, abs=1e-5)
