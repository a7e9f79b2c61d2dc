"""A fully convolutional autoencoder for one-channel images in [0, 1].

Encoder: `stages` convolutions of stride 2 (kernel `kernel_size`, padding kernel // 2), the
first stages-1 with `hidden_channels` outputs and the last with `latent_channels`, with GDN
(or ReLU / GELU) between them and none after the last: the latent is linear.
Decoder: the mirror image with transposed convolutions that exactly double the size, IGDN
(or the same plain nonlinearity) between them, and a sigmoid at the end.

Because it is fully convolutional, a model trained on square patches encodes a whole
128 x 1290 spectrogram. Sizes that are not multiples of 2^stages are padded on the right and
bottom by edge replication (repeating the last row / column, not zeros, so no artificial
silence edge appears), giving a latent of ceil(H / 2^s) x ceil(W / 2^s); `forward` crops the
reconstruction back to the input's size.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from percmusic_cli.config import NONLINEARITIES, ModelConfig
from percmusic_cli.errors import UsageError
from percmusic_cli.models.gdn import GDN


def _activation(name: str, channels: int, inverse: bool) -> nn.Module:
    if name == "gdn":
        return GDN(channels, inverse=inverse)
    if name == "relu":
        return nn.ReLU()
    if name == "gelu":
        return nn.GELU()
    raise UsageError(f"--nonlinearity {name!r}: choose one of {', '.join(NONLINEARITIES)}")


def _encoder(cfg: ModelConfig) -> nn.Sequential:
    k = cfg.kernel_size
    widths = [cfg.in_channels] + [cfg.hidden_channels] * (cfg.stages - 1) + [cfg.latent_channels]
    layers: list[nn.Module] = []
    for i in range(cfg.stages):
        layers.append(nn.Conv2d(widths[i], widths[i + 1], k, stride=2, padding=k // 2))
        if i < cfg.stages - 1:
            layers.append(_activation(cfg.nonlinearity, widths[i + 1], inverse=False))
    return nn.Sequential(*layers)


def _decoder(cfg: ModelConfig) -> nn.Sequential:
    k = cfg.kernel_size
    widths = [cfg.latent_channels] + [cfg.hidden_channels] * (cfg.stages - 1) + [cfg.in_channels]
    layers: list[nn.Module] = []
    for i in range(cfg.stages):
        # padding k//2 with output_padding 1 maps a side n to exactly 2n.
        layers.append(
            nn.ConvTranspose2d(
                widths[i], widths[i + 1], k, stride=2, padding=k // 2, output_padding=1
            )
        )
        if i < cfg.stages - 1:
            layers.append(_activation(cfg.nonlinearity, widths[i + 1], inverse=True))
    layers.append(nn.Sigmoid())
    return nn.Sequential(*layers)


class Autoencoder(nn.Module):
    """Encoder / decoder pair; see the module docstring for the shapes."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.factor = 2**cfg.stages
        self.encoder = _encoder(cfg)
        self.decoder = _decoder(cfg)

    def _pad(self, x: Tensor) -> Tensor:
        if x.ndim != 4 or x.shape[1] != self.cfg.in_channels:
            raise UsageError(
                f"expected images of shape (B, {self.cfg.in_channels}, H, W), got {tuple(x.shape)}"
            )
        h, w = x.shape[-2:]
        if min(h, w) < self.factor:
            raise UsageError(
                f"images must be at least {self.factor} pixels on each side for "
                f"{self.cfg.stages} stages, got {h} x {w}"
            )
        pad_h, pad_w = -h % self.factor, -w % self.factor
        if pad_h == 0 and pad_w == 0:
            return x
        return F.pad(x, (0, pad_w, 0, pad_h), mode="replicate")

    def encode(self, x: Tensor) -> Tensor:
        """(B, C, H, W) -> (B, latent, ceil(H / 2^s), ceil(W / 2^s))."""
        return self.encoder(self._pad(x))

    def decode(self, z: Tensor) -> Tensor:
        """(B, latent, h, w) -> (B, C, h * 2^s, w * 2^s), values in (0, 1)."""
        return self.decoder(z)

    def forward(self, x: Tensor) -> Tensor:
        h, w = x.shape[-2:]
        return self.decode(self.encode(x))[..., :h, :w]


def build_autoencoder(cfg: ModelConfig) -> Autoencoder:
    return Autoencoder(cfg)
