"""Numba's compile on an empty cache: what the first `distances` or `demo` on a machine pays
(and the tests that check a fresh compile). This tree against a past commit (`--rev`, checked
out with `git worktree` into a temporary folder), each in its own new interpreter with its
own empty NUMBA_CACHE_DIR, alternating, --rounds times.

Each run prepares 6 random 128 x 160 images for 1 - MS-SSIM, computes their 6 x 6 tile, and
prepares them for NLPD, timing each first call (compile included), and hashes the results.

    .venv/bin/python benchmarks/compile.py [--rev 8e25c42] [--rounds 2]

Prints the median seconds per stage and way, the ratio, and whether the results' bits are
the same in every run."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from _trees import ROOT, comparison_parser, past_tree

STAGES = ("msssim prepare", "msssim tile", "nlpd prepare")
RUN = """
import hashlib, json, pathlib, time
import numpy as np
import percmusic_cli
print(json.dumps(str(pathlib.Path(percmusic_cli.__file__).parent)))  # the tree in use
from percmusic_cli.config import MsssimConfig, NlpdConfig
from percmusic_cli.metrics._gram import prepare_nlpd
from percmusic_cli.metrics._msssim_state import msssim_tile, prepare_msssim

images = np.random.default_rng(0).random((6, 128, 160), dtype=np.float32)
digest, times = hashlib.sha256(), []
t = time.perf_counter()
state = prepare_msssim(images, MsssimConfig(), "cpu")
times.append(time.perf_counter() - t)
t = time.perf_counter()
digest.update(msssim_tile(state, state, slice(0, 6), slice(0, 6)).tobytes())
times.append(time.perf_counter() - t)
t = time.perf_counter()
for level in prepare_nlpd(images, NlpdConfig(), "cpu").features:
    digest.update(level.numpy().tobytes())
times.append(time.perf_counter() - t)
print(json.dumps({"times": times, "digest": digest.hexdigest()}))
"""


def _once(tree: Path) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "PYTHONPATH": str(tree), "NUMBA_CACHE_DIR": cache}
        # Run in the tree: `python -c` puts the working folder ahead of PYTHONPATH.
        out = subprocess.run(
            [sys.executable, "-c", RUN],
            env=env,
            cwd=tree,
            capture_output=True,
            text=True,
            check=True,
        )
    assert json.loads(out.stdout.splitlines()[0]) == str(tree / "percmusic_cli"), out.stdout
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    args = comparison_parser(__doc__.splitlines()[0], "8e25c42", 2).parse_args()
    with past_tree(args.rev) as past:
        trees = {f"past ({args.rev})": past, "this tree": ROOT}
        times: dict[str, list[list[float]]] = {name: [] for name in trees}
        digests = set()
        for _ in range(args.rounds):
            for name, tree in trees.items():
                run = _once(tree)
                times[name].append(list(run["times"]))  # type: ignore[call-overload]
                digests.add(str(run["digest"]))
    medians = {
        n: [statistics.median(r[i] for r in runs) for i in range(3)] for n, runs in times.items()
    }
    names = list(trees)
    print(f"| stage | {names[0]} s | {names[1]} s | ratio |\n| --- | ---: | ---: | ---: |")
    for i, stage in enumerate((*STAGES, "total")):
        old, new = ((sum(medians[n]) if stage == "total" else medians[n][i]) for n in names)
        print(f"| {stage} | {old:.1f} | {new:.1f} | {old / new:.2f}x |")
    same = "the same in every run" if len(digests) == 1 else f"DIFFERENT ({len(digests)} digests)"
    print(f"\n{args.rounds} rounds, alternating; the results' bits: {same}")


if __name__ == "__main__":
    main()
