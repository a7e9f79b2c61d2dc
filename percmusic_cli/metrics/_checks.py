"""Minimum image sizes, checked before any computation so that a too-small image gets a
clear message instead of an assertion from deep inside torch. Each metric states its own
minimum in its spec (`registry.MetricSpec.min_side`); these are the shared pieces."""

from __future__ import annotations

from percmusic_cli.config import DistanceConfig, MsssimConfig, NlpdConfig
from percmusic_cli.errors import ImageTooSmallError, UsageError


def msssim_min_side(config: MsssimConfig = MsssimConfig()) -> int:
    """Smallest short side for MS-SSIM: above (win - 1) * 2**(scales - 1), as pytorch_msssim
    asserts, so that the valid Gaussian window still fits at the coarsest scale."""
    if config.win_size < 1 or config.win_size % 2 == 0:
        raise UsageError(f"MS-SSIM window size must be odd and positive, got {config.win_size}")
    if len(config.weights) < 1:
        raise UsageError("MS-SSIM needs at least one scale weight")
    return (config.win_size - 1) * 2 ** (len(config.weights) - 1) + 1


def nlpd_min_side(config: NlpdConfig = NlpdConfig()) -> int:
    """Smallest side for NLPD: every level that is low-pass filtered (0 .. K-2) must keep at
    least 2 pixels, so the symmetric padding by 2 is defined; level i has ceil(side / 2**i)."""
    if config.levels < 1:
        raise UsageError(f"NLPD needs at least one level, got {config.levels}")
    if config.levels == 1:
        return 1
    return 2 ** (config.levels - 2) + 1


def require_side(height: int, width: int, metric: str, need: int, why: str = "") -> None:
    """Raise ImageTooSmallError, stating the minimum size, when a side is below `need`."""
    if min(height, width) >= need:
        return
    because = f" ({why})" if why else ""
    raise ImageTooSmallError(
        f"image of {height}x{width} is too small for {metric}{because}: "
        f"both sides must be at least {need} pixels"
    )


def min_side(
    metric: str, msssim: MsssimConfig = MsssimConfig(), nlpd: NlpdConfig = NlpdConfig()
) -> int:
    """Smallest allowed height and width of an image for any registered `metric`."""
    from percmusic_cli.metrics import registry

    spec = registry.get(metric)
    cfg = DistanceConfig(metric=metric, msssim=msssim, nlpd=nlpd)
    return registry.min_side(spec, registry.settings(spec, cfg))


def check_min_size(
    height: int,
    width: int,
    metric: str,
    msssim: MsssimConfig = MsssimConfig(),
    nlpd: NlpdConfig = NlpdConfig(),
) -> None:
    """Raise ImageTooSmallError, stating the minimum size, when `metric` cannot use the image."""
    require_side(height, width, metric, min_side(metric, msssim, nlpd))
