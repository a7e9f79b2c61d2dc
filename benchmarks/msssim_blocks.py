"""1 - MS-SSIM kernel: pairs grouped by first image (a past commit's kernel) against blocks of
first x second images (this tree's), side by side in one process.

Both kernels run on the same prepared 128 x 1290 images, on one rectangular tile (first
`--rect` images x the next `--rect`) and one diagonal tile of one set (all pairs of the first
`--diag` images), the variants interleaved in every repeat. The past kernel is the file
`percmusic_cli/metrics/_msssim_numba.py` at `--old-rev` (git show'n into a folder outside the
repository) with runs of 16 pairs sharing their first image, as that commit grouped them.
Prints wall ms per pair (best and median of the repeats) and the process's CPU ms per pair
(median; steadier than wall time when other processes share the cores), each as a ratio to
the past kernel, and whether every value is bit-identical to it.

    .venv/bin/python benchmarks/msssim_blocks.py [--blocks 4x4,2x8,4x8,8x4] [--repeats 3]
"""

from __future__ import annotations

import argparse
import importlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import numba
import numpy as np

from percmusic_cli.config import MsssimConfig
from percmusic_cli.metrics import _msssim_numba
from percmusic_cli.metrics._msssim_state import (
    MsssimState,
    _pairs_cpu,
    block_pairs,
    kernel_args,
    pair_groups,
    prepare_msssim,
)
from percmusic_cli.metrics._spans import in_spans

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from pairwise import synthetic  # noqa: E402


def old_kernel(rev: str) -> ModuleType:
    """The kernel file at `rev`, imported from a copy outside the repository (numba caches it
    there, keyed by that path)."""
    folder = Path(tempfile.gettempdir()) / f"percmusic_msssim_kernel_{rev}"
    folder.mkdir(exist_ok=True)
    path = folder / "msssim_kernel_old.py"
    if not path.exists():
        src = subprocess.run(
            ["git", "show", f"{rev}:percmusic_cli/metrics/_msssim_numba.py"],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        path.write_text(src)
    # imported by name: numba's cache reloads a kernel's environment by its module's name
    sys.path.insert(0, str(folder))
    return importlib.import_module("msssim_kernel_old")


def run(
    kernel: Any, state: MsssimState, ia: np.ndarray, ib: np.ndarray, starts: np.ndarray
) -> np.ndarray:
    """The kernel module's pairs on (ia, ib) in the groups `starts`: this tree's as the package
    calls it; a past one as its commit called it (`msssim_groups` on the thread pool of
    _spans.py, or before that, a `prange` loop, `msssim_pairs`)."""
    if kernel is _msssim_numba:
        return _pairs_cpu(state, state, ia, ib, starts)
    args = kernel_args(state, state, ia, ib, starts)
    if hasattr(kernel, "msssim_groups"):
        in_spans(lambda t0, t1: kernel.msssim_groups(t0, t1, *args), starts.shape[0] - 1)
    else:
        with numba.parallel_chunksize(1):
            kernel.msssim_pairs(*args)
    out: np.ndarray = args[-1]
    return out


def tiles(rect: int, diag: int) -> dict[str, tuple[np.ndarray, np.ndarray, bool]]:
    """name: (first images, second images, upper triangle only)."""
    return {
        f"rect {rect} x {rect}": (np.arange(rect), np.arange(rect, 2 * rect), False),
        f"diag {diag}": (np.arange(diag), np.arange(diag), True),
    }


def variants(
    ri: np.ndarray,
    ci: np.ndarray,
    upper: bool,
    blocks: list[tuple[int, int]],
    old_blocks: list[tuple[int, int]],
) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """name: (ia, ib, starts, position of each pair in the past kernel's order)."""
    i, j = np.divmod(np.arange(len(ri) * len(ci)), len(ci))
    if upper:
        i, j = i[i < j], j[i < j]
    flat = {int(k): p for p, k in enumerate(i * len(ci) + j)}
    ia, ib = ri[i].astype(np.int64), ci[j].astype(np.int64)
    out = {"old: runs of 16": (ia, ib, pair_groups(ia, 16), np.arange(len(ia)))}
    named = [("old", b) for b in old_blocks] + [("new", b) for b in blocks]
    for which, (a, b) in named:
        bi, bj, starts = block_pairs(len(ri), len(ci), (a, b), upper)
        pos = np.array([flat[int(k)] for k in bi * len(ci) + bj])
        out[f"{which}: blocks {a} x {b}"] = (
            ri[bi].astype(np.int64),
            ci[bj].astype(np.int64),
            starts,
            pos,
        )
    return out


def shapes(text: str) -> list[tuple[int, int]]:
    """Block shapes from "4x4,2x8": [(4, 4), (2, 8)]."""
    out = []
    for item in filter(None, text.split(",")):
        a, b = item.split("x")
        out.append((int(a), int(b)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--old-rev", default="6eb2dc8")
    parser.add_argument("--blocks", default="4x4,2x8,4x8,8x4")
    parser.add_argument(
        "--old-blocks",
        default="",
        help="blocks to run the past kernel with too (only for a rev whose kernel has them)",
    )
    parser.add_argument("--rect", type=int, default=64)
    parser.add_argument("--diag", type=int, default=96)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        numba.set_num_threads(args.threads)
    blocks, old_blocks = shapes(args.blocks), shapes(args.old_blocks)
    old = old_kernel(args.old_rev)
    images = synthetic(max(2 * args.rect, args.diag), seed=1)
    state = prepare_msssim(images, MsssimConfig(), "cpu")
    print(f"load before: {os.getloadavg()[0]:.2f}; numba threads {numba.get_num_threads()}")
    for name, (ri, ci, upper) in tiles(args.rect, args.diag).items():
        cases = variants(ri, ci, upper, blocks, old_blocks)
        ref: np.ndarray | None = None
        times: dict[str, list[float]] = {k: [] for k in cases}
        cpu: dict[str, list[float]] = {k: [] for k in cases}
        same: dict[str, bool] = {}
        for k, (ia, ib, _, _) in cases.items():  # compile / load and warm
            kern = old if k.startswith("old") else _msssim_numba
            run(kern, state, ia[:2], ib[:2], np.array([0, 2]))
        for _ in range(args.repeats):
            for k, (ia, ib, starts, pos) in cases.items():
                kern = old if k.startswith("old") else _msssim_numba
                start, start_cpu = time.perf_counter(), time.process_time()
                vals = run(kern, state, ia, ib, starts)
                times[k].append((time.perf_counter() - start) / len(ia) * 1e3)
                cpu[k].append((time.process_time() - start_cpu) / len(ia) * 1e3)
                back = np.empty_like(vals)
                back[pos] = vals
                if ref is None:
                    ref = back
                same[k] = bool(np.array_equal(back, ref)) and same.get(k, True)
        n = len(cases["old: runs of 16"][0])
        print(f"\n{name}: {n} pairs, {args.repeats} repeats interleaved")
        print(
            "| kernel | wall ms/pair best, median | old / this | CPU ms/pair median "
            "| old / this | bit-identical |"
        )
        print("| --- | ---: | ---: | ---: | ---: | --- |")
        base = float(np.median(times["old: runs of 16"]))
        base_cpu = float(np.median(cpu["old: runs of 16"]))
        for k, ts in times.items():
            med, med_cpu = float(np.median(ts)), float(np.median(cpu[k]))
            print(
                f"| {k} | {min(ts):.4f}, {med:.4f} | {base / med:.2f}x | {med_cpu:.4f} "
                f"| {base_cpu / med_cpu:.2f}x | {same[k]} |"
            )
    print(f"\nload after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
