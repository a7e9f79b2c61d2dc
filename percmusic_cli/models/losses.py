"""Training losses: any registered metric (`metrics.registry`), averaged over the batch.

Each loss takes (reconstruction, target), both (B, 1, H, W) in [0, 1], and returns a scalar.
The metrics are computed in float32 whatever precision the model ran in, because MS-SSIM's
and NLPD's divisions lose too much in half precision.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from percmusic_cli.config import DistanceConfig, MsssimConfig, NlpdConfig
from percmusic_cli.metrics import _contract, registry

LossFn = Callable[[Tensor, Tensor], Tensor]


def loss_names() -> tuple[str, ...]:
    """Every registered metric can be a loss."""
    return registry.names()


def loss_function(
    name: str, msssim: MsssimConfig | None = None, nlpd: NlpdConfig | None = None
) -> LossFn:
    """The loss called `name` (a registered metric). Metric settings default to the project's.

    1 - MS-SSIM with the default 5 scales and window 7 needs patches above 96 pixels a side;
    pass an `MsssimConfig` with fewer weights (scales) for smaller patches.
    """
    spec = registry.get(name)
    chosen = registry.settings(
        spec,
        DistanceConfig(metric=name, msssim=msssim or MsssimConfig(), nlpd=nlpd or NlpdConfig()),
    )

    def loss(x_hat: Tensor, x: Tensor) -> Tensor:
        # The metric's per-pair values are checked, not only their mean: a scalar or a
        # (B, 1) result would otherwise train silently on the wrong thing.
        d = _contract.guarded(spec, "as a loss", spec.as_distance, x_hat.float(), x.float(), chosen)
        need_grad = torch.is_grad_enabled() and x_hat.requires_grad
        return _contract.check_batch(spec, d, x.shape[0], need_grad).mean()

    return loss
