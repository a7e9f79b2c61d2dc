"""percmusic: perceptual metrics for music representation learning, in the terminal.

This module imports nothing heavy, so `percmusic --help` stays fast.
"""

__version__ = "0.1.0"
