"""Start-up cost of the spectrogram's mel filterbank in a fresh process (what every
`percmusic features` pays once): `librosa.filters.mel`, which loads scipy.signal, against
`percmusic_cli.melbank`, numpy alone. Each way runs in its own new interpreter after torch
and numba are imported (the features step loads them anyway), alternating, --rounds times.

    .venv/bin/python benchmarks/melbank.py [--rounds 5]

Prints the median seconds per way, the ratio, and checks that the two matrices are equal."""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

SETUP = "import time, numpy, torch, numba\nt = time.perf_counter()\n"
WAYS = {
    "librosa.filters.mel": "import librosa.filters\n"
    "fb = librosa.filters.mel(sr=22050, n_fft=2048, n_mels=128, fmin=0.0, fmax=None)\n",
    "percmusic_cli.melbank": "from percmusic_cli.melbank import mel_filterbank\n"
    "fb = mel_filterbank(22050, 2048, 128, 0.0, None)\n",
}
REPORT = (
    "import hashlib\nprint(time.perf_counter() - t, hashlib.sha256(fb.tobytes()).hexdigest())\n"
)


def _once(body: str) -> tuple[float, str]:
    out = subprocess.run(
        [sys.executable, "-c", SETUP + body + REPORT], capture_output=True, text=True, check=True
    )
    seconds, digest = out.stdout.split()
    return float(seconds), digest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    times: dict[str, list[float]] = {name: [] for name in WAYS}
    digests = set()
    for _ in range(args.rounds):
        for name, body in WAYS.items():
            seconds, digest = _once(body)
            times[name].append(seconds)
            digests.add(digest)
    assert len(digests) == 1, "the two filterbanks differ"
    old, new = (statistics.median(times[name]) for name in WAYS)
    print("| way | median s |\n| --- | --- |")
    for name in WAYS:
        print(f"| {name} | {statistics.median(times[name]):.3f} |")
    print(f"ratio {old / new:.0f}x; {old - new:.2f} s saved per process; filterbanks equal")


if __name__ == "__main__":
    main()
