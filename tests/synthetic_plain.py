"""The synthetic generator's plain definition, for checking its fast path
(tests/unit/test_synthetic.py) and timing it (benchmarks/synthetic.py): every note made whole,
then cut to the clip, and every note made anew."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

import numpy as np

from percmusic_cli.datasets import synthetic


@contextmanager
def whole_notes() -> Iterator[set[str]]:
    """Within it, `synthetic.generate_clip` follows the plain definition. Yields the ends at
    which notes were cut ("start", "end"), so a check can show it met both."""
    part_tone = synthetic._tone
    cuts: set[str] = set()

    def whole_then_cut(
        freq: float, length: int, span: tuple[int, int], sr: int, style: synthetic.Style,
        harmonics: tuple[float, ...],
    ) -> np.ndarray:  # fmt: skip
        cuts.update(["start"] if span[0] > 0 else [], ["end"] if span[1] < length else [])
        return part_tone(freq, length, (0, length), sr, style, harmonics)[span[0] : span[1]]

    def play_each(voice: synthetic._Voice, freq: float, length: int, start: int) -> None:
        lo, hi = synthetic._span(start, length, voice.out.size)
        if lo < hi:
            tone = synthetic._tone(freq, length, (lo, hi), voice.sr, voice.style, voice.harmonics)
            voice.out[start + lo : start + hi] += voice.gain * tone

    with (
        mock.patch.object(synthetic, "_tone", whole_then_cut),
        mock.patch.object(synthetic._Voice, "play", play_each),
    ):
        yield cuts
