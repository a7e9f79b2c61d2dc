"""The whole study at GTZAN size: wall time per stage and in total, and peak RSS.

    .venv/bin/python benchmarks/study.py                 # 930 tracks, 30 s, 128 x 1290, default
    .venv/bin/python benchmarks/study.py --n 40 --seconds 3 --frames 128 --preset quick

930 synthetic tracks (the embedded generator, 10 labels, --seconds of audio each) stand in
for the fault-filtered GTZAN: the same 443 / 197 / 290 train / valid / test proportions
(scaled for a smaller --n), log-mel images of 128 x --frames, one seed. Stages, each one api
call on a fresh store in the system temp folder: synthesize the audio, ingest, split (a
`<track> <part>` file), features, distances (the split's blocks, all metrics), reproduce (KNN
per metric, one autoencoder per loss, logistic regression, controls, claims; reusing the
distances). Prints a Markdown table and one `STUDY-<n>:` line with the total."""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import percmusic_cli  # noqa: F401  (first: its thread policy must precede torch's OpenMP)

GTZAN_PARTS = {"train": 443, "valid": 197, "test": 290}
GTZAN_TRACKS = sum(GTZAN_PARTS.values())
LABELS = 10


def part_sizes(n: int) -> dict[str, int]:
    """The fault-filtered proportions scaled to n tracks (exact at 930)."""
    train = round(n * GTZAN_PARTS["train"] / GTZAN_TRACKS)
    valid = round(n * GTZAN_PARTS["valid"] / GTZAN_TRACKS)
    return {"train": train, "valid": valid, "test": n - train - valid}


def split_lines(tracks: list[dict[str, Any]], sizes: dict[str, int]) -> list[str]:
    """`<track> <part>` lines: tracks dealt label by label in turn, so every part gets
    (nearly) the same share of each label, then cut at the part sizes."""
    by_label: dict[str, list[str]] = {}
    for row in sorted(tracks, key=lambda r: str(r["track_id"])):
        by_label.setdefault(str(row["label"]), []).append(str(row["track_id"]))
    dealt = [ids[i] for i in range(max(map(len, by_label.values()))) for ids in
             by_label.values() if i < len(ids)]  # fmt: skip
    parts = [p for p, count in sizes.items() for _ in range(count)]
    return [f"{tid} {part}" for tid, part in zip(dealt, parts, strict=True)]


def peak_rss_gib() -> tuple[float, float]:
    """Peak resident memory of this process and of its largest finished child, GiB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20
    return own, kids


def run(args: argparse.Namespace, root: Path) -> list[tuple[str, float, str]]:
    from percmusic_cli import api
    from percmusic_cli.progress import NullReporter
    from percmusic_cli.steps.ingest import prepare_synthetic

    store = api.open_store(root / "store")
    reporter = NullReporter()
    per_class = -(-args.n // LABELS)
    rows: list[tuple[str, float, str]] = []

    def stage(name: str, fn: Callable[[], Any], note: Callable[[Any], str] = str) -> Any:
        start = time.perf_counter()
        out = fn()
        rows.append((name, time.perf_counter() - start, note(out)[:70]))
        print(f"{name}: {rows[-1][1]:.1f} s", file=sys.stderr, flush=True)
        return out

    def synthesize() -> Path:
        with store.writer(0.0, "synthesize"):
            return prepare_synthetic(
                store, reporter, clips_per_class=per_class, seconds=args.seconds
            )

    src = stage(
        "synthesize audio", synthesize, lambda p: f"{per_class * LABELS} clips of {args.seconds} s"
    )
    stage("ingest", lambda: api.ingest(store, src, dataset="synthetic"), lambda s: "")
    tracks = api.browse_tracks(store, "synthetic")[: args.n]
    split_file = root / "split.txt"
    split_file.write_text("\n".join(split_lines(tracks, part_sizes(len(tracks)))) + "\n")
    stage(
        "split (file)",
        lambda: api.split(store, "synthetic", method="file", file=split_file),
        lambda s: " / ".join(f"{p} {sum(c.values())}" for p, c in s.counts.items()),
    )
    stage("features", lambda: api.features(store, "synthetic", n_frames=args.frames), lambda s: "")
    stage("distances (split blocks)", lambda: api.distances(store, "synthetic"), lambda r: "")
    stage(
        "reproduce (knn, train, classify)",
        lambda: api.reproduce(store, "synthetic", preset=args.preset, seed=args.seed),
        lambda r: f"preset {args.preset}, seed {args.seed}",
    )
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--n", type=int, default=GTZAN_TRACKS, help="tracks (default 930)")
    p.add_argument("--seconds", type=float, default=30.0, help="seconds of audio per track")
    p.add_argument("--frames", type=int, default=1290, help="log-mel frames kept per track")
    p.add_argument("--preset", default="default")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--keep", type=Path, help="build the store here and keep it")
    a = p.parse_args()
    if a.n < 2 * LABELS:
        p.error(f"--n {a.n}: at least {2 * LABELS} tracks (two per label)")
    root = a.keep or Path(tempfile.mkdtemp(prefix="percmusic-study-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    print(f"load before: {os.popen('uptime').read().strip()}; nproc {os.cpu_count()}\n")
    start = time.perf_counter()
    try:
        rows = run(a, root)
    finally:
        if a.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    total = time.perf_counter() - start
    own, kids = peak_rss_gib()
    print(f"{a.n} tracks, 128 x {a.frames}, preset {a.preset}, seed {a.seed}\n")
    print("| stage | wall s | share | note |\n| --- | ---: | ---: | --- |")
    for name, secs, note in rows:
        print(f"| {name} | {secs:.1f} | {100 * secs / total:.0f}% | {note} |")
    print(f"| total | {total:.1f} | 100% | |\n")
    print(
        f"STUDY-{a.n}: whole study in {total:.1f} s wall ({total / 60:.1f} min; target < 20 min "
        f"at 930), peak RSS {own:.2f} GiB (largest child process {kids:.2f} GiB); "
        f"load average at the end {os.getloadavg()[0]:.2f}"
    )


if __name__ == "__main__":
    main()
