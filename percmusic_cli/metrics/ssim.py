"""1 - SSIM (Wang, Bovik, Sheikh, Simoncelli 2004) at a single scale, with the exact
semantics of `pytorch_msssim.ssim`: the same valid separable Gaussian window, constants and
settings as 1 - MS-SSIM (its `MsssimConfig`; the scale weights are not used), no relu.

Written only against the metric registry: no fast pairwise path, so its matrices come from
the generic batched, tiled path."""

from __future__ import annotations

from typing import TYPE_CHECKING

from percmusic_cli.config import MsssimConfig
from percmusic_cli.metrics._checks import require_side
from percmusic_cli.metrics.mse import _check_pair
from percmusic_cli.metrics.msssim import gaussian_window, ssim_terms
from percmusic_cli.metrics.registry import MetricSpec

if TYPE_CHECKING:  # torch loads only when images are compared (msssim.py)
    from torch import Tensor


def ssim_min_side(config: MsssimConfig = MsssimConfig()) -> int:
    """The valid window must fit: both sides at least the window size."""
    return config.win_size


def one_minus_ssim(x: Tensor, y: Tensor, config: MsssimConfig = MsssimConfig()) -> Tensor:
    """1 - SSIM per image of (B, 1, H, W) batches in [0, data_range]: shape (B,)."""
    _check_pair(x, y)
    need = ssim_min_side(config)
    require_side(x.shape[-2], x.shape[-1], "ssim", need, f"window {config.win_size}")
    ssim, _ = ssim_terms(x, y, gaussian_window(config, x.dtype, x.device), config)
    return 1.0 - ssim


def _distance(x: Tensor, y: Tensor, config: MsssimConfig) -> Tensor:
    return one_minus_ssim(x, y, config)


SPEC = MetricSpec(
    name="ssim",
    label="1 - SSIM",
    distance=_distance,
    config_type=MsssimConfig,
    min_side=ssim_min_side,
)
