"""1 - MS-SSIM (Wang, Simoncelli, Bovik 2003) with the exact semantics of
`pytorch_msssim.ms_ssim`: valid separable Gaussian window, 2x2 average pooling with zero
padding on odd sides (padding counted in the mean), relu of cs per scale and of ssim at the
coarsest scale, product of the terms raised to the scale weights."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from percmusic_cli.config import MsssimConfig
from percmusic_cli.metrics._checks import msssim_min_side, require_side
from percmusic_cli.metrics.mse import _check_pair
from percmusic_cli.metrics.registry import FastPairwise, MetricSpec

# torch loads when images are first compared, not when the metric is looked up: listing the
# metrics, `knn` and `figures` on stored distances then skip its 2-3 s import.
if TYPE_CHECKING:
    import torch
    from torch import Tensor


def gaussian_window(config: MsssimConfig, dtype: torch.dtype, device: torch.device | str) -> Tensor:
    """1-D Gaussian window, built in float32 as pytorch_msssim does, then cast."""
    import torch

    coords = torch.arange(config.win_size, dtype=torch.float32) - config.win_size // 2
    g = torch.exp(-(coords**2) / (2 * config.win_sigma**2))
    g /= g.sum()
    return g.to(device=device, dtype=dtype)


def blur(x: Tensor, win: Tensor) -> Tensor:
    """Valid (unpadded) separable Gaussian filter of a (B, 1, H, W) batch, rows first."""
    import torch.nn.functional as F

    k = win.numel()
    out = F.conv2d(x, win.view(1, 1, k, 1))
    return F.conv2d(out, win.view(1, 1, 1, k))


def downsample(x: Tensor) -> Tensor:
    """2x2 average pooling; odd sides get one zero row/column on each side (as the package)."""
    import torch.nn.functional as F

    padding = [s % 2 for s in x.shape[2:]]
    return F.avg_pool2d(x, kernel_size=2, padding=padding)


def constants(config: MsssimConfig) -> tuple[float, float]:
    return (config.k1 * config.data_range) ** 2, (config.k2 * config.data_range) ** 2


def ssim_terms(x: Tensor, y: Tensor, win: Tensor, config: MsssimConfig) -> tuple[Tensor, Tensor]:
    """Mean SSIM and mean contrast-structure term of one scale: shapes (B,), (B,)."""
    c1, c2 = constants(config)
    mu1, mu2 = blur(x, win), blur(y, win)
    mu1_sq, mu2_sq, mu12 = mu1 * mu1, mu2 * mu2, mu1 * mu2
    s1 = blur(x * x, win) - mu1_sq
    s2 = blur(y * y, win) - mu2_sq
    s12 = blur(x * y, win) - mu12
    cs_map = (2 * s12 + c2) / (s1 + s2 + c2)
    ssim_map = (2 * mu12 + c1) / (mu1_sq + mu2_sq + c1) * cs_map
    return ssim_map.flatten(1).mean(1), cs_map.flatten(1).mean(1)


def combine(cs: list[Tensor], ssim_last: Tensor, config: MsssimConfig) -> Tensor:
    """MS-SSIM from per-scale cs (all but the last scale) and the last scale's ssim."""
    import torch

    terms = torch.stack([torch.relu(c) for c in cs] + [torch.relu(ssim_last)], dim=0)
    weights = terms.new_tensor(config.weights).view(-1, 1)
    return torch.prod(terms**weights, dim=0)


def one_minus_msssim(x: Tensor, y: Tensor, config: MsssimConfig = MsssimConfig()) -> Tensor:
    """1 - MS-SSIM per image of (B, 1, H, W) batches in [0, data_range]: shape (B,)."""
    _check_pair(x, y)
    why = f"window {config.win_size} over {len(config.weights)} scales"
    require_side(x.shape[-2], x.shape[-1], "msssim", msssim_min_side(config), why)
    win = gaussian_window(config, x.dtype, x.device)
    scales = len(config.weights)
    cs: list[Tensor] = []
    for i in range(scales):
        ssim_i, cs_i = ssim_terms(x, y, win, config)
        if i < scales - 1:
            cs.append(cs_i)
            x, y = downsample(x), downsample(y)
    return 1.0 - combine(cs, ssim_i, config)


def _prepare(images: np.ndarray, config: MsssimConfig, device: str) -> Any:
    from percmusic_cli.metrics._msssim_state import prepare_msssim

    return prepare_msssim(images, config, device)


def _tile(rows: Any, cols: Any, r: slice, c: slice) -> np.ndarray:
    from percmusic_cli.metrics._msssim_state import msssim_tile

    return msssim_tile(rows, cols, r, c)


def _distance(x: Tensor, y: Tensor, config: MsssimConfig) -> Tensor:
    return one_minus_msssim(x, y, config)


SPEC = MetricSpec(
    name="msssim",
    label="1 - MS-SSIM",
    distance=_distance,
    config_type=MsssimConfig,
    min_side=msssim_min_side,
    # The numba kernel parallelises inside a tile, and its thread pool must not be entered
    # from two threads at once: tiles run one after another.
    fast_pairwise=FastPairwise(_prepare, _tile, parallel_tiles=False),
    study=True,
)
