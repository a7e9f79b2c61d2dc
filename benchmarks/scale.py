"""Scale: distance tiles and streamed KNN on `local` against a 2-worker Dask LocalCluster.

Prints a Markdown section. For N = 1,000, 4,000, 8,000 *generated* feature images (smooth
random images, not decoded audio; smaller than the study's 128 x 1290, see --height and
--width, so the whole run fits a shared 2-core machine) split 50/20/30 into train, valid
and test, it measures two steps of a KNN run on the test x train block, each in a fresh
subprocess (so peak RSS is the step's own):
  - `dense`: the test x train distance matrix from tiles written as store parts
    (local: `pairwise.compute_matrix`; dask: `steps.tile_tasks`, then assembled);
  - `topk`: each test track's k_max = 50 nearest training tracks streamed tile by tile
    (`steps.neighbours.stream_topk`), no dense matrix anywhere.
Both schedulers run the same code on the same images; the results' sha256 must agree.
Wall times exclude start-up, reported apart: imports and numba's cached kernels loaded in
the process (local) or in each worker after starting the LocalCluster (dask), which a
long-lived cluster pays once.

    .venv/bin/python benchmarks/scale.py [--sizes 1000,4000,8000] [--metric nlpd]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

# Scratch store of the generated images (the system temp folder; not kept).
ROOT = Path(tempfile.gettempdir()) / "percmusic-dask-bench"
K_MAX = 50


def _images(n: int, h: int, w: int, seed: int = 0) -> np.ndarray:
    """Smooth random images in [0, 1]: low-pass noise, like log-mels in texture only."""
    rng = np.random.default_rng(seed)
    coarse = rng.random((n, h // 8 + 1, w // 8 + 1), dtype=np.float32)
    up = np.repeat(np.repeat(coarse, 8, axis=1), 8, axis=2)[:, :h, :w]
    noise = 0.1 * rng.random((n, h, w), dtype=np.float32)
    return np.clip(0.9 * up + noise, 0.0, 1.0).astype(np.float32)


def _parts(n: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.random.default_rng(1).permutation(n)
    n_tr, n_va = n // 2, n // 5
    return np.sort(order[:n_tr]), np.sort(order[n_tr + n_va :])  # train, test


def _features(n: int, h: int, w: int) -> str:
    rel = f"arrays/features-{n}-{h}x{w}.npy"
    target = ROOT / rel
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        np.save(target, _images(n, h, w), allow_pickle=False)
    return rel


def _warm(metric: str) -> None:
    """Imports and numba's cached kernels loaded: a long-lived worker pays this once."""
    from percmusic_cli.config import DistanceConfig
    from percmusic_cli.metrics.pairwise import PairwiseEngine

    engine = PairwiseEngine(DistanceConfig(metric=metric, device="cpu"), device="cpu")
    state = engine.prepare(_images(2, 32, 128, seed=9))
    engine.tile(state, state, slice(0, 2), slice(0, 2))


def _maxrss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _digest(*arrays: np.ndarray) -> str:
    sha = hashlib.sha256()
    for arr in arrays:
        sha.update(np.ascontiguousarray(arr).tobytes())
    return sha.hexdigest()[:12]


class _NoCount:
    def found(self, n: int) -> None:
        return None

    def saved(self, n: int) -> None:
        return None


def one(n: int, step: str, sched: str, metric: str, h: int, w: int) -> dict[str, Any]:
    """One measurement, in this (fresh) process."""
    from percmusic_cli.api import session as open_session
    from percmusic_cli.config import DistanceConfig
    from percmusic_cli.metrics.pairwise import PairwiseEngine, compute_matrix
    from percmusic_cli.steps import tile_tasks
    from percmusic_cli.steps.neighbours import stream_topk
    from percmusic_cli.store import Store
    from percmusic_cli.store.distances import StoreTileSink

    rel = _features(n, h, w)
    train, test = _parts(n)
    cfg = DistanceConfig(metric=metric, device="cpu")
    out_rel = f"arrays/{step}-{sched}-{metric}-{n}.npy"
    shutil.rmtree(ROOT / (out_rel + ".parts"), ignore_errors=True)
    t0 = time.monotonic()
    session = open_session(Store(ROOT), scheduler=sched, workers=2)
    if sched == "dask":
        client = session.backend.client()  # type: ignore[attr-defined]
        client.wait_for_workers(2)
        client.run(_warm, metric)
    else:
        _warm(metric)
    startup = time.monotonic() - t0
    started = time.monotonic()
    if step == "topk":
        idx, dist = stream_topk(session, rel, test, train, cfg, K_MAX, out_rel, "topk")
        digest = _digest(idx, dist)
    elif sched == "local":
        images = np.load(ROOT / rel, mmap_mode="r")
        sink = StoreTileSink(Store(ROOT), out_rel)
        engine = PairwiseEngine(cfg, device="cpu")
        m = compute_matrix(engine, images[test], images[train], cfg.tile, sink)
        digest = _digest(m)
    else:
        job = tile_tasks.BlockJob(str(ROOT), rel, test, train, cfg, "cpu", out_rel)
        tile_tasks.run_tiles(session, job, _NoCount())
        m = tile_tasks.assemble(job, StoreTileSink(Store(ROOT), out_rel).load)
        digest = _digest(m)
    wall = time.monotonic() - started
    workers_rss = 0.0
    if sched == "dask":
        got = client.run(_maxrss_mib)
        workers_rss = max(got.values())
    session.close()
    shutil.rmtree(ROOT / (out_rel + ".parts"), ignore_errors=True)
    return {
        "n": n,
        "step": step,
        "sched": sched,
        "wall_s": round(wall, 2),
        "startup_s": round(startup, 2),
        "client_rss_mib": round(_maxrss_mib()),
        "worker_rss_mib": round(workers_rss),
        "pairs": len(test) * len(train),
        "digest": digest,
    }


FMA_LARGE = 106_574


def rates() -> None:
    """Per-pair rates at the study's 128 x 1290 on this machine (tiles in the local tile
    executor, preparation apart), and what FMA-large would take from them on 100 cores."""
    from percmusic_cli.config import DistanceConfig
    from percmusic_cli.metrics.pairwise import MemoryTileSink, PairwiseEngine, compute_matrix
    from percmusic_cli.steps.neighbours import block_sizes

    sizes = {"mse": (64, 256), "nlpd": (64, 256), "msssim": (16, 64)}
    print(
        "\n| metric | rows x cols | prepare ms/image | tile ms/pair (2 cores) | "
        "FMA-large all pairs, 100 cores | FMA-large KNN blocks, 100 cores |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    all_pairs = FMA_LARGE * (FMA_LARGE - 1) // 2
    knn_pairs = int(0.2 * FMA_LARGE) * int(0.8 * FMA_LARGE)  # (valid + test) x train, 80/10/10
    for metric, (nr, nc) in sizes.items():
        imgs = _images(nr + nc, 128, 1290, seed=3)
        engine = PairwiseEngine(DistanceConfig(metric=metric, device="cpu"), device="cpu")
        warm = engine.prepare(imgs[:2])  # numba's cached kernels loaded before timing
        engine.tile(warm, warm, slice(0, 2), slice(0, 2))
        t0 = time.monotonic()
        engine.prepare(imgs[:nr])
        prep = (time.monotonic() - t0) / nr
        t0 = time.monotonic()
        compute_matrix(engine, imgs[:nr], imgs[nr:], 64, MemoryTileSink())
        per_pair = (time.monotonic() - t0 - prep * (nr + nc)) / (nr * nc)
        # 100 one-thread workers, each at half this 2-core rate; the columns are prepared
        # again for every row block (as many rows as a 2 GB budget holds at this size).
        per_core = per_pair * 2
        block = block_sizes(FMA_LARGE, 128 * 1290, 64, 2 * 1024**3, 100)[1]
        cases = [(all_pairs, FMA_LARGE, FMA_LARGE), (knn_pairs, 0.2 * FMA_LARGE, 0.8 * FMA_LARGE)]
        hours = [
            (p * per_core + prep * 2 * (rows / block) * cols) / 100 / 3600
            for p, rows, cols in cases
        ]
        print(
            f"| {metric} | {nr} x {nc} | {prep * 1e3:.2f} | {per_pair * 1e3:.4f} | "
            f"{hours[0]:.1f} h | {hours[1]:.1f} h |"
        )


def _run_one(n: int, step: str, sched: str, args: argparse.Namespace) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--one", f"{n},{step},{sched}", "--metric", args.metric]
    cmd += ["--height", str(args.height), "--width", str(args.width)]
    res = subprocess.run(cmd, capture_output=True, text=True, check=False, env=os.environ)
    if res.returncode != 0:
        raise SystemExit(f"{cmd} failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,4000,8000")
    ap.add_argument("--metric", default="nlpd")
    ap.add_argument("--height", type=int, default=64)
    ap.add_argument("--width", type=int, default=256)
    ap.add_argument("--one", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--rates-only", action="store_true", help="only the 128 x 1290 rates")
    args = ap.parse_args()
    if args.rates_only:
        rates()
        return
    if args.one:
        n, step, sched = args.one.split(",")
        print(json.dumps(one(int(n), step, sched, args.metric, args.height, args.width)))
        return
    began = time.strftime("%H:%M UTC", time.gmtime())
    rows = []
    for n in map(int, args.sizes.split(",")):
        _features(n, args.height, args.width)
        for step in ("dense", "topk"):
            pair = [_run_one(n, step, s, args) for s in ("local", "dask")]
            rows.append(pair)
            print(json.dumps(pair), file=sys.stderr)
    _report(rows, args, began)
    rates()


def _report(rows: list[list[dict[str, Any]]], args: argparse.Namespace, began: str) -> None:
    print(
        f"{args.metric}, generated {args.height} x {args.width} images, split 50/20/30, "
        f"test x train, k_max {K_MAX}; run began {began}\n"
    )
    print(
        "| N | step | pairs | local wall (+ start-up) | dask wall (+ cluster start, warm-up) "
        "| dask / local | local peak RSS | dask client / worker peak RSS "
        "| local pairs/s | same bits |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for loc, dsk in rows:
        print(
            f"| {loc['n']:,} | {loc['step']} | {loc['pairs']:,} | {loc['wall_s']:.1f} s "
            f"(+{loc['startup_s']:.1f} s) | "
            f"{dsk['wall_s']:.1f} s (+{dsk['startup_s']:.1f} s) | "
            f"{dsk['wall_s'] / loc['wall_s']:.2f} | {loc['client_rss_mib']} MiB | "
            f"{dsk['client_rss_mib']} / {dsk['worker_rss_mib']} MiB | "
            f"{loc['pairs'] / loc['wall_s']:,.0f} | "
            f"{'yes' if loc['digest'] == dsk['digest'] else 'NO'} |"
        )


if __name__ == "__main__":
    main()
