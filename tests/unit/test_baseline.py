"""Did the model learn: the trivial baseline of each loss and the final/baseline ratio."""

from __future__ import annotations

import pytest
import torch

from percmusic_cli.experiments.baseline import (
    MSE_UNIFORM,
    constant_baseline,
    final_loss,
    learning,
    trivial_baseline,
)
from percmusic_cli.models.losses import loss_function


def _noise(seed: int, n: int = 4) -> list[torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return [torch.rand((4, 1, 32, 32), generator=gen) for _ in range(n)]


def test_mse_on_uniform_noise_is_one_twelfth_and_the_measured_constant_agrees() -> None:
    mse = loss_function("mse")
    assert trivial_baseline("mse", "noise", mse, lambda: torch.zeros(1)) == MSE_UNIFORM
    assert constant_baseline(mse, _noise(0)) == pytest.approx(1 / 12, rel=0.03)


def test_measured_baseline_uses_the_given_batches_and_the_best_constant() -> None:
    batches = [torch.full((2, 1, 8, 8), 0.3), torch.full((2, 1, 8, 8), 0.3)]
    assert constant_baseline(loss_function("mse"), batches) == pytest.approx(0.0, abs=1e-12)
    drawn = iter(_noise(1))
    value = trivial_baseline("mse", "spectrograms", loss_function("mse"), lambda: next(drawn))
    assert value == pytest.approx(constant_baseline(loss_function("mse"), _noise(1)))


def test_final_loss_is_the_mean_of_the_last_tenth_and_the_flag_is_at_five_percent() -> None:
    history = [(i, 1.0) for i in range(1, 91)] + [(i, 0.5) for i in range(91, 101)]
    assert final_loss(history) == pytest.approx(0.5)
    assert final_loss([]) is None
    assert learning(0.080, 1 / 12)["learned"] is False  # 0.96: within 5%
    assert learning(0.080, 1 / 12)["loss_ratio"] == pytest.approx(0.96)
    assert learning(0.078, 1 / 12)["learned"] is True  # 0.936: 6.4% below
    assert learning(None, 1 / 12)["loss_ratio"] is None
