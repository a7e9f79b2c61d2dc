"""Perceptual distances between images in [0, 1]: MSE, 1 - MS-SSIM and NLPD (pure,
differentiable torch), and tiled, resumable pairwise distance matrices."""

from percmusic_cli.metrics._checks import check_min_size, min_side
from percmusic_cli.metrics.mse import mse
from percmusic_cli.metrics.msssim import one_minus_msssim
from percmusic_cli.metrics.nlpd import nlpd, nlpd_pyramid

__all__ = ["check_min_size", "min_side", "mse", "nlpd", "nlpd_pyramid", "one_minus_msssim"]
