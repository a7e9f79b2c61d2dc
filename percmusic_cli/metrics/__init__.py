"""Perceptual distances between images in [0, 1]: MSE, 1 - MS-SSIM and NLPD (pure,
differentiable torch), and tiled, resumable pairwise distance matrices.

The pairwise names load lazily, so importing a metric function does not import numba."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from percmusic_cli.metrics._checks import check_min_size, min_side
from percmusic_cli.metrics.mse import mse
from percmusic_cli.metrics.msssim import one_minus_msssim
from percmusic_cli.metrics.nlpd import nlpd, nlpd_pyramid

if TYPE_CHECKING:
    from percmusic_cli.metrics.pairwise import (
        MemoryTileSink,
        PairwiseEngine,
        Prepared,
        TileSink,
        TileSpec,
        compute_matrix,
        tile_plan,
    )

_PAIRWISE = (
    "MemoryTileSink", "PairwiseEngine", "Prepared", "TileSink", "TileSpec",
    "compute_matrix", "tile_plan",
)  # fmt: skip

__all__ = [
    "MemoryTileSink",
    "PairwiseEngine",
    "Prepared",
    "TileSink",
    "TileSpec",
    "check_min_size",
    "compute_matrix",
    "min_side",
    "mse",
    "nlpd",
    "nlpd_pyramid",
    "one_minus_msssim",
    "tile_plan",
]


def __getattr__(name: str) -> Any:
    if name in _PAIRWISE:
        from percmusic_cli.metrics import pairwise

        return getattr(pairwise, name)
    raise AttributeError(f"module 'percmusic_cli.metrics' has no attribute {name!r}")
