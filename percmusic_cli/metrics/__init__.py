"""Perceptual distances between images in [0, 1], one module per metric (mse, msssim, nlpd,
ssim; see `registry`), and tiled, resumable pairwise distance matrices.

Every name loads lazily, so importing the package (or the registry) imports neither torch
nor numba. Import a metric's function from its module (`percmusic_cli.metrics.nlpd.nlpd`):
a package attribute named like a module would be replaced by the module on its import."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from percmusic_cli.metrics._checks import check_min_size, min_side
    from percmusic_cli.metrics.pairwise import (
        MemoryTileSink,
        PairwiseEngine,
        Prepared,
        TileSink,
        TileSpec,
        compute_matrix,
        tile_plan,
    )

_WHERE = {
    "check_min_size": "_checks",
    "min_side": "_checks",
    **dict.fromkeys(
        ("MemoryTileSink", "PairwiseEngine", "Prepared", "TileSink", "TileSpec",
         "compute_matrix", "tile_plan"),
        "pairwise",
    ),
}  # fmt: skip

__all__ = [
    "MemoryTileSink",
    "PairwiseEngine",
    "Prepared",
    "TileSink",
    "TileSpec",
    "check_min_size",
    "compute_matrix",
    "min_side",
    "tile_plan",
]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        module = importlib.import_module(f"percmusic_cli.metrics.{_WHERE[name]}")
        return getattr(module, name)
    raise AttributeError(f"module 'percmusic_cli.metrics' has no attribute {name!r}")
