"""`make setup` (or `--target demo`) from a fresh clone: this tree against a past commit
(`--rev`), each in its own new clone with its own new virtual environment and empty caches
(numba's, the model cache: a new user's first run), alternating, `--rounds` times.

The past commit is cloned and checked out; this tree is cloned at HEAD with the working tree's
uncommitted changes applied (`git diff HEAD`). Prints wall and CPU seconds (the children's
user + sys) per run, the medians and their ratio.

    .venv/bin/python benchmarks/setup.py [--rev HEAD] [--rounds 2] [--target demo]

Nothing is downloaded that `make setup` would not download; the clones go under a temporary
folder that is removed at the end."""

from __future__ import annotations

import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from _trees import ROOT, children_cpu, comparison_parser


def _clone(dest: Path, rev: str | None) -> None:
    subprocess.run(["git", "clone", "-q", str(ROOT), str(dest)], check=True)
    if rev is not None:
        subprocess.run(["git", "-C", str(dest), "checkout", "-q", rev], check=True)
        return
    diff = subprocess.run(
        ["git", "-C", str(ROOT), "diff", "HEAD", "--binary"], check=True, capture_output=True
    ).stdout
    if diff:
        subprocess.run(["git", "-C", str(dest), "apply"], input=diff, check=True)


def _make(dest: Path, target: str) -> tuple[float, float]:
    """Wall and CPU seconds of `make <target>` in `dest`, with caches of its own."""
    env = {
        **os.environ,
        "PERCMUSIC_CACHE": str(dest / "user-cache"),
        "PERCMUSIC_MODEL_CACHE": str(dest / "user-cache" / "models"),
    }
    env.pop("NUMBA_CACHE_DIR", None)
    start, cpu = time.perf_counter(), children_cpu()
    done = subprocess.run(["make", "-s", target], cwd=dest, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"make {target} failed in {dest}:\n{done.stderr[-2000:]}")
    return time.perf_counter() - start, children_cpu() - cpu


def main() -> None:
    parser = comparison_parser(__doc__, "HEAD", 2)
    parser.add_argument("--target", default="setup", choices=("setup", "demo"))
    args = parser.parse_args()
    ways = {f"past ({args.rev})": args.rev, "this tree": None}
    runs: dict[str, list[tuple[float, float]]] = {k: [] for k in ways}
    print(f"make {args.target}; load before: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="percmusic-setup-") as tmp:
        for r in range(args.rounds):
            for name, rev in ways.items():
                dest = Path(tmp) / f"{r}-{rev or 'tree'}"
                _clone(dest, rev)
                wall, cpu = _make(dest, args.target)
                runs[name].append((wall, cpu))
                print(f"round {r + 1}, {name}: {wall:.1f} s wall, {cpu:.1f} s CPU", flush=True)
    print(f"load after: {os.getloadavg()[0]:.2f}\n")
    print("| way | wall s, median | CPU s, median | runs (wall) |")
    print("| --- | ---: | ---: | --- |")
    med = {k: statistics.median(w for w, _ in v) for k, v in runs.items()}
    for name, values in runs.items():
        cpu = statistics.median(c for _, c in values)
        walls = ", ".join(f"{w:.1f}" for w, _ in values)
        print(f"| {name} | {med[name]:.1f} | {cpu:.1f} | {walls} |")
    past, tree = med[f"past ({args.rev})"], med["this tree"]
    print(f"\nratio past / this tree (wall): {past / tree:.2f}x")


if __name__ == "__main__":
    main()
