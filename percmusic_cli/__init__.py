"""percmusic: perceptual metrics for music representation learning, in the terminal.

This module imports nothing heavy, so `percmusic --help` stays fast.
"""

from percmusic_cli.cachedir import configure_numba
from percmusic_cli.threads import apply_thread_policy

__version__ = "0.1.0"

# Before any submodule can import numba (directly or through librosa).
configure_numba()
# Before torch or numba load an OpenMP runtime (it reads its wait policy once).
apply_thread_policy()
