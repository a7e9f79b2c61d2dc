"""Generalised divisive normalisation (Ballé, Laparra, Simoncelli 2016).

GDN:  y_i = x_i / sqrt(beta_i + sum_j gamma_ij * x_j^2)
IGDN: y_i = x_i * sqrt(beta_i + sum_j gamma_ij * x_j^2)   (the decoder's approximate inverse)

beta must stay positive and gamma non-negative while Adam moves them freely, so both are
stored reparametrised as in Ballé's compression library: the raw parameter p holds
sqrt(value + pedestal), and the effective value is max(p, bound)^2 - pedestal. The lower
bound uses a gradient that still lets a parameter stuck below it climb back.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

_PEDESTAL = 2.0**-36  # (2^-18)^2: keeps sqrt differentiable near zero
_BETA_MIN = 1e-6
_GAMMA_INIT = 0.1


class _LowerBound(torch.autograd.Function):
    """max(x, bound) whose gradient passes when x is above the bound or is pushed upwards."""

    @staticmethod
    def forward(ctx: torch.autograd.function.FunctionCtx, x: Tensor, bound: float) -> Tensor:
        ctx.save_for_backward(x)
        ctx.bound = bound  # type: ignore[attr-defined]
        return torch.clamp(x, min=bound)

    @staticmethod
    def backward(ctx: torch.autograd.function.FunctionCtx, grad: Tensor) -> tuple[Tensor, None]:
        (x,) = ctx.saved_tensors  # type: ignore[attr-defined]
        bound = ctx.bound  # type: ignore[attr-defined]
        # A descent step moves x by -grad: let it through when that raises x towards the bound.
        passes = (x >= bound) | (grad < 0)
        return grad * passes.to(grad.dtype), None


def lower_bound(x: Tensor, bound: float) -> Tensor:
    return _LowerBound.apply(x, bound)


class GDN(nn.Module):
    """Channel-wise GDN over (B, C, H, W) maps; `inverse=True` gives IGDN."""

    def __init__(self, channels: int, inverse: bool = False) -> None:
        super().__init__()
        self.channels = channels
        self.inverse = inverse
        self.beta_raw = nn.Parameter(torch.sqrt(torch.ones(channels) + _PEDESTAL))
        gamma = _GAMMA_INIT * torch.eye(channels)
        self.gamma_raw = nn.Parameter(torch.sqrt(gamma + _PEDESTAL))

    @property
    def beta(self) -> Tensor:
        """Effective beta, always >= beta_min > 0."""
        bound = (_BETA_MIN + _PEDESTAL) ** 0.5
        return lower_bound(self.beta_raw, bound) ** 2 - _PEDESTAL

    @property
    def gamma(self) -> Tensor:
        """Effective gamma (C, C), always >= 0."""
        return lower_bound(self.gamma_raw, _PEDESTAL**0.5) ** 2 - _PEDESTAL

    def forward(self, x: Tensor) -> Tensor:
        c = self.channels
        # Under autocast the input may be half precision; the norm is computed in its dtype.
        gamma = self.gamma.to(x.dtype).view(c, c, 1, 1)
        norm = F.conv2d(x * x, gamma, self.beta.to(x.dtype))
        norm = torch.sqrt(norm)
        return x * norm if self.inverse else x / norm

    def extra_repr(self) -> str:
        return f"{self.channels}, inverse={self.inverse}"
