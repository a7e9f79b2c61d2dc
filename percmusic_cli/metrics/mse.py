"""Mean squared error between batches of images."""

from __future__ import annotations

from torch import Tensor

from percmusic_cli.metrics._checks import check_min_size


def _check_pair(x: Tensor, y: Tensor) -> None:
    if x.shape != y.shape:
        raise ValueError(f"images differ in shape: {tuple(x.shape)} vs {tuple(y.shape)}")
    if x.dim() != 4 or x.shape[1] != 1:
        raise ValueError(f"expected a (B, 1, H, W) batch, got {tuple(x.shape)}")


def mse(x: Tensor, y: Tensor) -> Tensor:
    """Mean over pixels of (x - y)^2 for each image of a (B, 1, H, W) batch: shape (B,)."""
    _check_pair(x, y)
    check_min_size(x.shape[-2], x.shape[-1], "mse")
    return (x - y).pow(2).flatten(1).mean(1)
