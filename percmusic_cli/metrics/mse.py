"""Mean squared error between batches of images."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from percmusic_cli.metrics._checks import require_side
from percmusic_cli.metrics.registry import FastPairwise, MetricSpec

if TYPE_CHECKING:  # torch loads only when images are compared (msssim.py)
    from torch import Tensor


def _check_pair(x: Tensor, y: Tensor) -> None:
    if x.shape != y.shape:
        raise ValueError(f"images differ in shape: {tuple(x.shape)} vs {tuple(y.shape)}")
    if x.dim() != 4 or x.shape[1] != 1:
        raise ValueError(f"expected a (B, 1, H, W) batch, got {tuple(x.shape)}")


def mse(x: Tensor, y: Tensor) -> Tensor:
    """Mean over pixels of (x - y)^2 for each image of a (B, 1, H, W) batch: shape (B,)."""
    _check_pair(x, y)
    require_side(x.shape[-2], x.shape[-1], "mse", 1, "at least one pixel")
    return (x - y).pow(2).flatten(1).mean(1)


def _prepare(images: np.ndarray, _settings: None, device: str) -> Any:
    from percmusic_cli.metrics._gram import prepare_pixels

    return prepare_pixels(images, device)


def _tile(rows: Any, cols: Any, r: slice, c: slice) -> np.ndarray:
    from percmusic_cli.metrics._gram import gram_tile

    return gram_tile(rows, cols, r, c)


def _distance(x: Tensor, y: Tensor, _settings: None) -> Tensor:
    return mse(x, y)


SPEC = MetricSpec(
    name="mse",
    label="MSE",
    distance=_distance,
    fast_pairwise=FastPairwise(_prepare, _tile, parallel_tiles=True),
    study=True,
)
