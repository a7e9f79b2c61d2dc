"""Training losses: the project's own metrics, averaged over the batch.

Each loss takes (reconstruction, target), both (B, 1, H, W) in [0, 1], and returns a scalar.
The metrics are computed in float32 whatever precision the model ran in, because MS-SSIM's
and NLPD's divisions lose too much in half precision.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import Tensor

from percmusic_cli.config import MsssimConfig, NlpdConfig
from percmusic_cli.errors import UsageError

LOSSES = ("mse", "msssim", "nlpd")

LossFn = Callable[[Tensor, Tensor], Tensor]


def _mse() -> LossFn:
    from percmusic_cli.metrics.mse import mse

    def loss(x_hat: Tensor, x: Tensor) -> Tensor:
        return mse(x_hat.float(), x.float()).mean()

    return loss


def _msssim(config: MsssimConfig) -> LossFn:
    from percmusic_cli.metrics.msssim import one_minus_msssim

    def loss(x_hat: Tensor, x: Tensor) -> Tensor:
        return one_minus_msssim(x_hat.float(), x.float(), config).mean()

    return loss


def _nlpd(config: NlpdConfig) -> LossFn:
    from percmusic_cli.metrics.nlpd import nlpd

    def loss(x_hat: Tensor, x: Tensor) -> Tensor:
        return nlpd(x_hat.float(), x.float(), config).mean()

    return loss


def loss_function(
    name: str, msssim: MsssimConfig | None = None, nlpd: NlpdConfig | None = None
) -> LossFn:
    """The loss called `name` (one of LOSSES). Metric settings default to the project's.

    1 - MS-SSIM with the default 5 scales and window 7 needs patches above 96 pixels a side;
    pass an `MsssimConfig` with fewer weights (scales) for smaller patches.
    """
    if name == "mse":
        return _mse()
    if name == "msssim":
        return _msssim(msssim or MsssimConfig())
    if name == "nlpd":
        return _nlpd(nlpd or NlpdConfig())
    raise UsageError(f"unknown loss {name!r}: choose one of {', '.join(LOSSES)}")
