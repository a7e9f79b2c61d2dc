"""Cost of one TAB that lists stored ids: `percmusic __complete-ids runs STORE` answered by
the console-script entry (cli/entry.py, no Typer app) beside the same hidden command run
through the full Typer app. Interleaved runs, median wall and CPU (user + sys) seconds.

    python benchmarks/complete_ids.py STORE [REPEATS]
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time

WAYS = {
    "entry fast path": "from percmusic_cli.cli.entry import main; main()",
    "full Typer app": "from percmusic_cli.cli.app import main; main()",
}


def once(code: str, store: str) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", code, "__complete-ids", "runs", store],
        check=True,
        stdout=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main(store: str, repeats: int) -> None:
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in WAYS}
    for _ in range(repeats):
        for name, code in WAYS.items():
            times[name].append(once(code, store))
    print("| way | median wall s | median CPU s | min wall s |")
    print("|---|---|---|---|")
    for name, runs in times.items():
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        print(f"| {name} | {wall:.3f} | {cpu:.3f} | {min(w for w, _ in runs):.3f} |")


if __name__ == "__main__":
    sys.argv[1:2] = [sys.argv[1]] if len(sys.argv) > 1 else ["store"]
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 10)
