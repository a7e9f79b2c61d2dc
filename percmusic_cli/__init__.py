"""percmusic: perceptual metrics for music representation learning, in the terminal.

This module imports nothing heavy, so `percmusic --help` stays fast.
"""

from percmusic_cli.cachedir import configure_numba

__version__ = "0.1.0"

# Before any submodule can import numba (directly or through librosa).
configure_numba()
