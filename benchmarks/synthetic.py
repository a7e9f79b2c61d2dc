"""Cost of one synthetic clip: the generator as it is (only the heard part of each note; a
repeated bass or arpeggio note made once per clip) against its plain definition (every note
made whole, then cut; tests/synthetic_plain.py), side by side in one process, alternating so
drift falls on both alike. Every clip pair is checked bit for bit.

    .venv/bin/python benchmarks/synthetic.py [--rounds 3] [--seconds 1 10 30]

Per clip length: the median over rounds of the time for one clip of each of the ten labels,
in ms per clip, and the ratio."""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from synthetic_plain import whole_notes

from percmusic_cli.datasets.synthetic import SYNTHETIC_LABELS, generate_clip


def _clips(
    seconds: float, index: int, way: AbstractContextManager[object]
) -> tuple[float, list[np.ndarray]]:
    with way:
        started = time.perf_counter()
        clips = [generate_clip(lab, index, seconds, 22050, 0) for lab in SYNTHETIC_LABELS]
        return (time.perf_counter() - started) / len(clips), clips


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, nargs="+", default=[1.0, 10.0, 30.0])
    args = parser.parse_args()
    generate_clip(SYNTHETIC_LABELS[0], 0, 0.1, 22050, 0)  # imports and first-call costs
    print("| clip | plain ms/clip | as is ms/clip | ratio |\n| --- | --- | --- | --- |")
    for seconds in args.seconds:
        times: dict[str, list[float]] = {"plain": [], "fast": []}
        for index in range(args.rounds):
            plain_s, plain = _clips(seconds, index, whole_notes())
            fast_s, fast = _clips(seconds, index, nullcontext())
            assert all(np.array_equal(a, b) for a, b in zip(plain, fast, strict=True))
            times["plain"].append(plain_s)
            times["fast"].append(fast_s)
        p, f = (statistics.median(times[k]) * 1000 for k in ("plain", "fast"))
        print(f"| {seconds:g} s | {p:.1f} | {f:.1f} | {p / f:.2f}x |")


if __name__ == "__main__":
    main()
