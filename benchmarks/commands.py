"""Commands that read what the store already holds, each in a fresh process: what a user
waits for at the prompt. This tree against a past commit (`--rev`, a `git worktree`), on
the same store, alternating, --rounds times.

The store is built once, by this tree: the embedded synthetic dataset ingested, split,
turned into features, with the study's three distance matrices and KNN runs. Then each
round runs, in each tree, `knn --metric all --force` (a new KNN run per metric on the
stored distances), `metrics` (every metric described) and `figures` (every figure drawn
from the stored runs).

    .venv/bin/python benchmarks/commands.py [--rev 1048682] [--rounds 5]

Prints the median wall and CPU seconds per command and tree, and the ratios."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _trees import ROOT, children_cpu, comparison_parser, past_tree

BUILD = (
    ("ingest", "--synthetic"),
    ("filter",),
    ("features",),
    ("distances", "--metric", "all"),
    ("knn", "--metric", "all"),
)
COMMANDS = {
    "knn --metric all --force": ("knn", "--metric", "all", "--force"),
    "metrics": ("metrics",),
    "figures": ("figures",),
}
CLI = "import sys; from percmusic_cli.cli.app import main; sys.argv[0] = 'percmusic'; main()"


def _run(tree: Path, store: Path, args: tuple[str, ...]) -> tuple[float, float]:
    """Wall and CPU seconds of `percmusic --store STORE ARGS` with `tree`'s package."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    start, cpu = time.perf_counter(), children_cpu()
    # Run in the tree: `python -c` puts the working folder ahead of PYTHONPATH.
    done = subprocess.run(
        [sys.executable, "-c", CLI, "--store", str(store), *args],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed in {tree}:\n{done.stderr[-2000:]}")
    return time.perf_counter() - start, children_cpu() - cpu


def main() -> None:
    args = comparison_parser(__doc__.splitlines()[0], "1048682", 5).parse_args()
    with tempfile.TemporaryDirectory() as tmp, past_tree(args.rev) as past:
        store = Path(tmp) / "store"
        for step in BUILD:
            _run(ROOT, store, step)
        trees = {f"past ({args.rev})": past, "this tree": ROOT}
        runs: dict[tuple[str, str], list[tuple[float, float]]] = {}
        for _ in range(args.rounds):
            for command, argv in COMMANDS.items():
                for name, tree in trees.items():
                    runs.setdefault((command, name), []).append(_run(tree, store, argv))
    old, new = trees
    print(
        f"| command | {old} wall s | this tree wall s | ratio | {old} CPU s | this tree CPU s |"
        "\n| --- | ---: | ---: | ---: | ---: | ---: |"
    )
    for command in COMMANDS:
        wall = [statistics.median(w for w, _ in runs[command, n]) for n in (old, new)]
        cpu = [statistics.median(c for _, c in runs[command, n]) for n in (old, new)]
        print(
            f"| {command} | {wall[0]:.2f} | {wall[1]:.2f} | {wall[0] / wall[1]:.2f}x "
            f"| {cpu[0]:.2f} | {cpu[1]:.2f} |"
        )
    print(f"\nmedians of {args.rounds} rounds, alternating; one store, built by this tree")


if __name__ == "__main__":
    main()
