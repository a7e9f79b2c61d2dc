"""Pairwise distance matrices: percmusic's tiled engine against per-pair peers.

Prints a Markdown section. On N real 128 x 1290 log-mel images (from
../shared/data/gtzan_dev, or synthetic smooth images when absent) it times:
  - 1 - MS-SSIM: the engine's matrix vs a loop calling pytorch_msssim.ms_ssim per pair;
  - NLPD: the engine's matrix vs a loop calling percmusic's nlpd per pair (pyramids
    recomputed for every pair, as peers do);
  - MSE: the engine's matrix;
checks that the values agree, and extrapolates to the 930-song filtered GTZAN (all x all and
the split's blocks). Then, in a fresh subprocess each, a synthetic N = 930 run of NLPD and MSE
(and MS-SSIM with --msssim-930) reporting wall time and peak RSS.

    .venv/bin/python benchmarks/pairwise.py [--n 40] [--device cpu] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

from percmusic_cli.config import DistanceConfig
from percmusic_cli.metrics.nlpd import nlpd
from percmusic_cli.metrics.pairwise import (
    MemoryTileSink,
    PairwiseEngine,
    compute_matrix,
    tile_plan,
)

GTZAN_DEV = Path(__file__).resolve().parents[2] / "shared" / "data" / "gtzan_dev" / "genres"
FRAMES = 1290
ALL_PAIRS = 930 * 929 // 2
SPLIT_BLOCKS = {
    "train x train": 443 * 442 // 2,
    "valid x train": 197 * 443,
    "test x train": 290 * 443,
}


def logmel(path: Path) -> np.ndarray:
    """protocol.md defaults: 22.05 kHz mono, n_fft 2048, hop 512, 128 mels, dB re max, [0, 1]."""
    import librosa

    y, sr = librosa.load(path, sr=22050, mono=True)
    mel = librosa.feature.melspectrogram(y=y, sr=sr, n_fft=2048, hop_length=512, n_mels=128)
    db = librosa.power_to_db(mel, ref=np.max, top_db=80.0)
    img = ((db + 80.0) / 80.0).astype(np.float32)
    out = np.zeros((128, FRAMES), dtype=np.float32)
    out[:, : min(FRAMES, img.shape[1])] = img[:, :FRAMES]
    return out


def synthetic(n: int, seed: int = 0) -> np.ndarray:
    """Smooth random images in [0, 1] with a spectrogram-like vertical trend."""
    rng = np.random.default_rng(seed)
    out = np.empty((n, 128, FRAMES), dtype=np.float32)
    ramp = torch.linspace(0.3, 0.0, 128)[:, None]
    for i in range(0, n, 32):
        x = torch.from_numpy(rng.random((min(32, n - i), 1, 128, FRAMES), dtype=np.float32))
        x = torch.nn.functional.avg_pool2d(x, 5, stride=1, padding=2, count_include_pad=False)
        out[i : i + 32] = (0.7 * x[:, 0] + ramp).clamp(0, 1).numpy()
    return out


def load_images(n: int) -> tuple[np.ndarray, str]:
    files = sorted(GTZAN_DEV.glob("*/*.wav"))
    if not files:
        return synthetic(n), "synthetic smooth images (gtzan_dev absent)"
    by_genre: dict[str, list[Path]] = {}
    for f in files:
        by_genre.setdefault(f.parent.name, []).append(f)
    picked = [f for k in range(5) for g in sorted(by_genre) for f in by_genre[g][k : k + 1]][:n]
    return np.stack([logmel(f) for f in picked]), f"{len(picked)} GTZAN dev log-mel images"


def timed(fn, *args):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - start


def engine_matrix(
    metric: str, images: np.ndarray, device: str, threads: int | None, tile: int
) -> tuple[np.ndarray, float, float]:
    """The matrix, the prepare time and the tiles' time (prepared state reused)."""
    engine = PairwiseEngine(DistanceConfig(metric=metric, threads=threads), device=device)
    warm = engine.prepare(images[:2])  # compile the kernels, warm up
    engine.tile(warm, warm, slice(0, 1), slice(1, 2))
    prep, t_prep = timed(engine.prepare, images)
    start = time.perf_counter()
    mat = np.zeros((len(images), len(images)))
    for spec in tile_plan(len(images), len(images), tile, symmetric=True):
        mat[spec.r, spec.c] = engine.tile(prep, prep, spec.r, spec.c)
    t_tiles = time.perf_counter() - start
    return np.triu(mat, 1) + np.triu(mat, 1).T, t_prep, t_tiles


def peer_pairs(images: np.ndarray, pairs: list[tuple[int, int]], fn) -> tuple[np.ndarray, float]:  # type: ignore[no-untyped-def]
    """Values and seconds per pair, at the faster of 1 torch thread and torch's default: on a
    shared machine a thread pool can make small per-pair convolutions much slower."""
    default = torch.get_num_threads()
    best = float("inf")
    vals: list[float] = []
    for threads in sorted({1, default}):
        torch.set_num_threads(threads)
        fn(images[0], images[1])  # warm up
        start = time.perf_counter()
        vals = [fn(images[i], images[j]) for i, j in pairs]
        best = min(best, (time.perf_counter() - start) / len(pairs))
    torch.set_num_threads(default)
    return np.array(vals), best


def msssim_peer(a: np.ndarray, b: np.ndarray) -> float:
    import pytorch_msssim

    x, y = torch.from_numpy(a)[None, None], torch.from_numpy(b)[None, None]
    return 1.0 - float(pytorch_msssim.ms_ssim(x, y, data_range=1.0, win_size=7))


def nlpd_peer(a: np.ndarray, b: np.ndarray) -> float:
    x, y = torch.from_numpy(a)[None, None], torch.from_numpy(b)[None, None]
    with torch.no_grad():
        return float(nlpd(x, y))


def fmt_s(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.2f} h"


def compare(args: argparse.Namespace) -> list[str]:
    images, source = load_images(args.n)
    n = images.shape[0]
    npairs = n * (n - 1) // 2
    rng = np.random.default_rng(0)
    iu = np.stack(np.triu_indices(n, k=1), axis=1)
    pick = rng.choice(len(iu), size=min(args.peer_pairs, len(iu)), replace=False)
    subset = [(int(i), int(j)) for i, j in iu[pick]]
    lines = [f"### Engine vs per-pair peers, N = {n} ({source}, 128 x {FRAMES})", ""]
    lines += [
        f"device {args.device}, threads {args.threads}, tile {args.tile}; "
        f"peers timed on {len(subset)} random pairs (best of 1 and {torch.get_num_threads()} "
        "torch threads)",
        "",
        "| metric | peer ms/pair | engine ms/pair (tiles) | prepare ms/image | ratio per pair "
        "| max abs diff | 930 all x all: peer / engine | 930 split blocks: peer / engine |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    peers = {"msssim": msssim_peer, "nlpd": nlpd_peer, "mse": None}
    split_pairs = sum(SPLIT_BLOCKS.values())
    for metric, peer in peers.items():
        mat, t_prep, t_tiles = engine_matrix(metric, images, args.device, args.threads, args.tile)
        per_image = t_prep / n
        per_pair = t_tiles / npairs
        if peer is None:
            peer_ms, ratio, diff, peer_all, peer_split = "-", "-", "-", "-", "-"
        else:
            vals, peer_pp = peer_pairs(images, subset, peer)
            diff = f"{np.max(np.abs(vals - np.array([mat[i, j] for i, j in subset]))):.1e}"
            peer_ms, ratio = f"{peer_pp * 1e3:.2f}", f"{peer_pp / per_pair:.0f}x"
            peer_all, peer_split = fmt_s(peer_pp * ALL_PAIRS), fmt_s(peer_pp * split_pairs)
        eng_all = fmt_s(per_pair * ALL_PAIRS + per_image * 930)
        eng_split = fmt_s(per_pair * split_pairs + per_image * 930)
        lines.append(
            f"| {metric} | {peer_ms} | {per_pair * 1e3:.3f} | {per_image * 1e3:.1f} | {ratio} "
            f"| {diff} | {peer_all} / {eng_all} | {peer_split} / {eng_split} |"
        )
    blocks = ", ".join(f"{k} {v:,}" for k, v in SPLIT_BLOCKS.items())
    lines += [
        "",
        f"930 songs: all x all = {ALL_PAIRS:,} pairs; split blocks = {blocks} "
        f"= {split_pairs:,} pairs. Engine extrapolations include preparing 930 images.",
        "",
    ]
    return lines


def msssim_flops_per_pair(h: int = 128, w: int = FRAMES, k: int = 7, scales: int = 5) -> int:
    """Floating-point operations of the kernel's cross term for one pair (an FMA counts 2):
    per scale the product (1 per pixel), the horizontal and vertical k-tap filters (2k each
    per filtered value) and the cs formula with its column sum (8 per output value; 14 at the
    coarsest scale, which adds the luminance term)."""
    total = 0
    for s in range(scales):
        ho, wo = h - k + 1, w - k + 1
        total += h * w + 2 * k * h * wo + 2 * k * ho * wo + (14 if s == scales - 1 else 8) * ho * wo
        h, w = h // 2 + h % 2, w // 2 + w % 2
    return total


def peak_gflops(cores: int) -> tuple[float, str]:
    """Peak float32 GFLOP/s: 2 FMA units x 16 lanes (AVX-512) or 8 (AVX2) x 2 x GHz x cores."""
    flags, mhz = "", 0.0
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("flags") and not flags:
                    flags = line
                if line.startswith("cpu MHz") and not mhz:
                    mhz = float(line.split(":")[1])
    except OSError:
        return 0.0, "unknown CPU"
    lanes, isa = (16, "AVX-512") if "avx512f" in flags else (8, "AVX2")
    ghz = mhz / 1000
    return (
        2 * lanes * 2 * ghz * cores,
        f"{cores} cores x {ghz:.1f} GHz x 2 FMA x {lanes} lanes ({isa})",
    )


def one_run(metric: str, n: int, device: str, threads: int | None, tile: int) -> dict[str, float]:
    images = synthetic(n, seed=1)
    engine = PairwiseEngine(DistanceConfig(metric=metric, threads=threads), device=device)
    engine.prepare(images[:2])
    mat, wall = timed(compute_matrix, engine, images, None, tile, MemoryTileSink())
    rss_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    upper = mat[np.triu_indices(n, 1)]
    return {"wall_s": wall, "peak_rss_gib": rss_gib, "mean": float(upper.mean())}


def big_runs(args: argparse.Namespace) -> list[str]:
    metrics = ["nlpd", "mse"] + (["msssim"] if args.msssim_930 else [])
    lines = [
        f"### Synthetic N = {args.big_n} (128 x {FRAMES}), all x all, one fresh process each",
        "",
    ]
    summary = ""
    lines += [
        "| metric | wall (prepare + all tiles) | peak RSS | mean distance |",
        "| --- | --- | --- | --- |",
    ]
    for metric in metrics:
        cmd = [
            sys.executable,
            __file__,
            "--one-run",
            metric,
            "--big-n",
            str(args.big_n),
            "--device",
            args.device,
            "--tile",
            str(args.tile),
        ]
        if args.threads:
            cmd += ["--threads", str(args.threads)]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        res = json.loads(out.strip().splitlines()[-1])
        rss, mean = res["peak_rss_gib"], res["mean"]
        lines.append(f"| {metric} | {res['wall_s']:.1f} s | {rss:.2f} GiB | {mean:.4f} |")
        if metric == "msssim":
            summary = msssim_summary(args.big_n, res["wall_s"])
    lines.append("")
    if args.msssim_930:
        lines += [summary, ""]
    return lines


def msssim_summary(n: int, wall: float) -> str:
    """The one line the lead reads: wall time, achieved rate and load."""
    pairs = n * (n - 1) // 2
    gflops = msssim_flops_per_pair() * pairs / wall / 1e9
    peak, how = peak_gflops(os.cpu_count() or 1)
    load = os.getloadavg()[0]
    return (
        f"MSSSIM-{n}: 1 - MS-SSIM {n} x {n} all pairs in {wall:.1f} s wall (prepare included; "
        f"target < 60 s at 930), {gflops:.1f} GFLOP/s = {100 * gflops / peak:.1f}% of peak "
        f"{peak:.0f} GFLOP/s ({how}); load average at the end {load:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--big-n", type=int, default=930)
    parser.add_argument("--peer-pairs", type=int, default=30)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--tile", type=int, default=DistanceConfig().tile)
    parser.add_argument("--msssim-930", action="store_true", help="also run MS-SSIM at N = 930")
    parser.add_argument("--skip-big", action="store_true")
    parser.add_argument("--one-run", choices=["nlpd", "mse", "msssim"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one_run:
        print(json.dumps(one_run(args.one_run, args.big_n, args.device, args.threads, args.tile)))
        return
    lines = ["## Pairwise distance matrices (benchmarks/pairwise.py)", ""]
    lines += [f"load before: {os.popen('uptime').read().strip()}", ""]
    lines += compare(args)
    if not args.skip_big:
        lines += big_runs(args)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
