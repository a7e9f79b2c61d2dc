"""A third-party metric for percmusic's plugin tests: mean absolute difference (L1), with
only the differentiable batched function, so percmusic's generic pairwise path serves it."""

from __future__ import annotations

from typing import Any

from torch import Tensor

from percmusic_cli.metrics.registry import MetricSpec


def l1(x: Tensor, y: Tensor, _settings: Any = None) -> Tensor:
    """Mean over pixels of |x - y| per image of (B, 1, H, W) batches: shape (B,)."""
    return (x - y).abs().flatten(1).mean(1)


def spec() -> MetricSpec:
    """The entry point may name a spec or, as here, a function returning one."""
    return MetricSpec(name="l1", label="L1 (plugin)", distance=l1)


NOT_A_SPEC = "an entry point that names something other than a MetricSpec"
