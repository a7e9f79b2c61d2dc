"""Kill-and-resume loop: SIGKILL each long command at random points, then check the store
and rerun; the rerun must end with results identical to an uninterrupted run.

Two ways to pick the point of death:

- event: the command runs under a small bootstrap that counts the moments that matter
  for crash safety (every `os.replace` before and after and every `os.fsync` of a file in
  the store or its model cache, every store connection before it opens and after a
  writing one commits) and SIGKILLs itself at
  event N, N drawn at random from those an uninterrupted run goes through;
- delay: the command is SIGKILLed from outside after a random delay within the time an
  uninterrupted run takes;
- file: the command SIGKILLs itself the moment the Nth file of one kind appears: a
  temporary file (.tmp-*), a part (*.npz of a .parts folder), a checkpoint (ckpt-*), a
  final array (arrays/*.npy) or the database itself.

`--attacks` also runs benchmarks/attacks.py: hostile names, store tampering, and a
disk-full run on a small tmpfs (where one can be mounted).

Usage:  .venv/bin/python benchmarks/faults.py --kills 5 [--mode event|delay|file|all]
        .venv/bin/python benchmarks/faults.py --kills 0 --attacks
Prints, per command: kills survived, reruns identical, check failures (must be 0).
tests/integration/test_faults.py imports this file for its smaller loop.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
COMMANDS = ("ingest", "features", "distances", "train", "classify")
STAGES = ("ingest", "filter", "features", "distances", "train", "classify")

# The bootstrap the command runs under (python -c): counts events, dies at event N.
BOOTSTRAP = r"""
import contextlib, os, signal, sys
import tempfile
AT = int(os.environ.get("PERCMUSIC_FAULT_AT", "0"))
COUNT_FILE = os.environ.get("PERCMUSIC_FAULT_COUNT")
KIND = os.environ.get("PERCMUSIC_FAULT_FILE", "")
n = 0
appeared = {}
_args = sys.argv[1:]
# Only the store's files (and its model cache beside it, `<store>.model-cache`) count: a
# library's own cache would make the count depend on what ran before (numba writes each
# kernel it compiles into a cold cache with os.replace).
ROOT = os.path.realpath(_args[_args.index("--store") + 1]) if "--store" in _args else "/"
def ours(path):
    return os.path.realpath(os.fspath(path)).startswith(ROOT)
def fd_path(fd):
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return ROOT  # not resolvable here: count it
def event():
    global n
    n += 1
    if n == AT and not KIND:
        os.kill(os.getpid(), signal.SIGKILL)
def kind_of(path):
    path = os.fspath(path)
    name, parent = os.path.basename(path), os.path.basename(os.path.dirname(path))
    if name.startswith(".tmp-"):
        return "temporary"
    if parent.endswith(".parts") and name.endswith(".npz"):
        return "part"
    if name.startswith("ckpt-"):
        return "checkpoint"
    if parent == "arrays" and name.endswith(".npy"):
        return "array"
    if name == "percmusic.duckdb":
        return "database"
    return None
def appear(path):
    kind = kind_of(path) if ours(path) else None
    if kind is None:
        return
    appeared[kind] = appeared.get(kind, 0) + 1
    if kind == KIND and appeared[kind] == AT:
        os.kill(os.getpid(), signal.SIGKILL)
_replace, _fsync, _link = os.replace, os.fsync, os.link
_mkstemp, _mkdtemp = tempfile.mkstemp, tempfile.mkdtemp
def replace(src, dst, *args, **kwargs):
    counted = ours(dst)
    if counted:
        event()
    out = _replace(src, dst, *args, **kwargs)
    if counted:
        event()
    appear(dst)
    return out
def link(src, dst, *args, **kwargs):
    out = _link(src, dst, *args, **kwargs)
    appear(dst)
    return out
def mkstemp(*args, **kwargs):
    out = _mkstemp(*args, **kwargs)
    appear(out[1])
    return out
def mkdtemp(*args, **kwargs):
    out = _mkdtemp(*args, **kwargs)
    appear(out)
    return out
os.link, tempfile.mkstemp, tempfile.mkdtemp = link, mkstemp, mkdtemp
def fsync(fd):
    if ours(fd_path(fd)):
        event()
    return _fsync(fd)
os.replace, os.fsync = replace, fsync
from percmusic_cli.store import db
_connect = db.Store.connect
@contextlib.contextmanager
def connect(self, read_only=False):
    event()
    with _connect(self, read_only) as con:
        yield con
    if not read_only:
        event()
db.Store.connect = connect
if COUNT_FILE:
    import atexit
    def _write():
        import json
        with open(COUNT_FILE, "w") as fh:
            fh.write(json.dumps({"events": n, **appeared}))
    atexit.register(_write)
from percmusic_cli.cli.app import main
sys.argv = ["percmusic", *sys.argv[1:]]
main()
"""


def make_dataset(root: Path, genres: int = 4, per_genre: int = 9) -> Path:
    """A tiny labelled tree (1.5 s tones, one garbage file) using the tests' helpers."""
    sys.path.insert(0, str(REPO / "tests"))
    from trees import SR, tone_clip, write_broken, write_wav

    from percmusic_cli.datasets.gtzan import GENRES

    for g, genre in enumerate(GENRES[:genres]):
        for j in range(per_genre):
            clip = tone_clip(110.0 * (g + 1) * (1 + 0.03 * j), seed=j)
            write_wav(root / genre / f"clip {j}.wav", clip, SR)
    write_broken(root / GENRES[0] / "broken.wav", "garbage")
    return root


def stage_args(data: Path) -> dict[str, list[str]]:
    return {
        "ingest": ["ingest", str(data)],
        "filter": ["filter", "--split", "random"],
        "features": ["features", "--frames", "100"],
        "distances": ["distances", "--tile", "4"],
        "train": [
            "train",
            "--loss",
            "mse",
            "--steps",
            "30",
            "--batch",
            "2",
            "--patch",
            "32",
            "--hidden",
            "4",
            "--latent",
            "2",
        ],
        "classify": ["classify", "--model", "ae-mse", "--no-controls", "--n-boot", "20"],
    }


def _env(extra: dict[str, str]) -> dict[str, str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONHASHSEED": "0", **extra}
    for key in ("PERCMUSIC_FAULT_AT", "PERCMUSIC_FAULT_COUNT", "PERCMUSIC_FAULT_FILE"):
        env.pop(key, None)
    env.update(extra)
    return env


def launch(
    store: Path, args: list[str], env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-c", BOOTSTRAP, "--store", str(store), "-q", *args]
    # A model cache per store: a store must train (and be killable while training), not
    # reuse the model the reference run published to a shared cache.
    own = {"PERCMUSIC_MODEL_CACHE": str(store.parent / f"{store.name}.model-cache")}
    return subprocess.Popen(
        cmd,
        cwd=REPO,
        env=_env({**own, **(env or {})}),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def run(store: Path, args: list[str], env: dict[str, str] | None = None) -> tuple[int, str]:
    proc = launch(store, args, env)
    _, err = proc.communicate(timeout=600)
    return proc.returncode, err.decode(errors="replace")


def fingerprint(store_root: Path) -> dict[str, Any]:
    """What must be identical after a rerun: tracks, split, arrays' sha256, derived sets,
    models and their weights, run metrics and predictions (not times or dates)."""
    from percmusic_cli.store import Store
    from percmusic_cli.store import tables as t

    store = Store(store_root)
    q = {
        "tracks": "SELECT track_id, label, status, md5, error, duration_s FROM tracks",
        "split": "SELECT split, track_id, part FROM split_members",
        "arrays": "SELECT path, sha256, shape, dtype FROM arrays",
        "features": "SELECT feature_hash, array_path FROM feature_sets",
        "feature_tracks": "SELECT feature_hash, row_index, track_id, padded FROM feature_tracks",
        "distances": "SELECT dist_hash, array_path FROM distance_sets",
        "latents": "SELECT latent_hash, array_path FROM latent_sets",
        "models": "SELECT model_id, status, steps_done, checkpoint_dir FROM models",
        "loss": "SELECT model_id, step, loss FROM loss_history",
        "metrics": "SELECT run_id, name, value, low, high FROM run_metrics",
        "predictions": "SELECT * FROM predictions",
    }
    with store.connect(read_only=True) as con:
        out: dict[str, Any] = {k: sorted(map(str, t.query(con, sql))) for k, sql in q.items()}
    out["weights"] = sorted(
        (p.relative_to(store_root).as_posix(), hashlib.sha256(p.read_bytes()).hexdigest())
        for p in store_root.glob("checkpoints/*/ckpt-*/model.safetensors")
    )
    return out


def check(store_root: Path) -> dict[str, Any]:
    from percmusic_cli.steps.check import check_store
    from percmusic_cli.store import Store

    return check_store(Store(store_root))


@dataclass
class Reference:
    """An uninterrupted pipeline: the store after each stage, its events and duration."""

    workdir: Path
    data: Path
    snapshots: dict[str, Path] = field(default_factory=dict)
    events: dict[str, int] = field(default_factory=dict)
    files: dict[str, dict[str, int]] = field(default_factory=dict)  # kind -> files appeared
    seconds: dict[str, float] = field(default_factory=dict)
    prints: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def args(self) -> dict[str, list[str]]:
        return stage_args(self.data)

    def before(self, stage: str) -> Path | None:
        i = STAGES.index(stage)
        return self.upto(STAGES[i - 1]) if i else None

    def upto(self, stage: str) -> Path:
        """The reference store after `stage` (building earlier stages as needed)."""
        if stage in self.snapshots:
            return self.snapshots[stage]
        prev = self.before(stage)
        live = self.workdir / "live"
        if prev is None:
            shutil.rmtree(live, ignore_errors=True)
        counter = self.workdir / f"count-{stage}"
        started = time.monotonic()
        rc, err = run(live, self.args[stage], {"PERCMUSIC_FAULT_COUNT": str(counter)})
        self.seconds[stage] = time.monotonic() - started
        if rc != 0:
            raise RuntimeError(f"reference {stage} failed ({rc}): {err[-2000:]}")
        counts = json.loads(counter.read_text())
        self.events[stage] = int(counts.pop("events"))
        self.files[stage] = {k: int(v) for k, v in counts.items()}
        snap = self.workdir / f"after-{stage}"
        shutil.copytree(live, snap)
        self.snapshots[stage] = snap
        self.prints[stage] = fingerprint(snap)
        return snap


def make_reference(workdir: Path) -> Reference:
    data = make_dataset(workdir / "data")
    return Reference(workdir, data)


@dataclass
class Outcome:
    command: str
    mode: str
    point: str  # "event 7/40" or "1.23 s"
    killed: bool
    check_ok: bool
    rerun_ok: bool
    identical: bool
    detail: str = ""


def kill_and_resume(
    ref: Reference, command: str, mode: str, rng: random.Random, workdir: Path
) -> Outcome:
    """Run `command` on a copy of the store before it, kill it, check, rerun, compare."""
    ref.upto(command)  # reference result (and the stages before it)
    store = workdir / f"store-{command}"
    shutil.rmtree(store, ignore_errors=True)
    before = ref.before(command)
    if before is not None:
        shutil.copytree(before, store)
    args = ref.args[command]
    if mode == "file" and not ref.files[command]:
        mode = "event"  # nothing of those kinds appears in this command
    if mode == "file":
        kind = rng.choice(sorted(ref.files[command]))
        at = rng.randint(1, ref.files[command][kind])
        point = f"{kind} {at}/{ref.files[command][kind]}"
        rc, _ = run(store, args, {"PERCMUSIC_FAULT_FILE": kind, "PERCMUSIC_FAULT_AT": str(at)})
        killed = rc == -signal.SIGKILL
    elif mode == "event":
        at = rng.randint(1, ref.events[command])
        point = f"event {at}/{ref.events[command]}"
        rc, _ = run(store, args, {"PERCMUSIC_FAULT_AT": str(at)})
        killed = rc == -signal.SIGKILL
    else:
        delay = rng.uniform(0.0, ref.seconds[command])
        point = f"{delay:.2f} s of {ref.seconds[command]:.2f} s"
        proc = launch(store, args)
        try:
            proc.wait(timeout=delay)
            killed = False
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            killed = True
        if proc.stderr is not None:
            proc.stderr.close()
    return _resume(ref, command, mode, point, killed, store)


def _resume(
    ref: Reference, command: str, mode: str, point: str, killed: bool, store: Path
) -> Outcome:
    report = check(store) if (store / "percmusic.duckdb").exists() else {"ok": True}
    detail = "" if report["ok"] else f"check after kill: {report['problems']}"
    rc, err = run(store, ref.args[command])
    rerun_ok = rc == 0 and check(store)["ok"]
    if rc != 0:
        detail += f" rerun failed ({rc}): {err.strip().splitlines()[-1:]}"
    identical = rerun_ok and fingerprint(store) == ref.prints[command]
    if rerun_ok and not identical:
        got = fingerprint(store)
        differ = [k for k in got if got[k] != ref.prints[command][k]]
        detail += f" differs from the uninterrupted run in: {differ}"
    return Outcome(
        command, mode, point, killed, bool(report["ok"]), rerun_ok, identical, detail.strip()
    )


def _summary(outcomes: list[Outcome]) -> str:
    lines = [
        "| command | mode | kills | killed mid-run | check failures after kill | "
        "reruns ok | reruns identical |",
        "|---|---|---|---|---|---|---|",
    ]
    keys = sorted({(o.command, o.mode) for o in outcomes}, key=lambda k: COMMANDS.index(k[0]))
    for command, mode in keys:
        mine = [o for o in outcomes if o.command == command and o.mode == mode]
        lines.append(
            f"| {command} | {mode} | {len(mine)} | {sum(o.killed for o in mine)} | "
            f"{sum(not o.check_ok for o in mine)} | {sum(o.rerun_ok for o in mine)} | "
            f"{sum(o.identical for o in mine)} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=3, help="kills per command and mode")
    parser.add_argument("--mode", choices=("event", "delay", "file", "both", "all"), default="both")
    parser.add_argument(
        "--attacks", action="store_true", help="also hostile names, tampering and disk full"
    )
    parser.add_argument("--hostile", type=int, default=20, help="hostile names to try")
    parser.add_argument("--commands", default=",".join(COMMANDS))
    parser.add_argument("--seed", type=int, default=0)
    opts = parser.parse_args(argv)
    modes = {"both": ("event", "delay"), "all": ("event", "delay", "file")}.get(
        opts.mode, (opts.mode,)
    )
    rng = random.Random(opts.seed)
    outcomes: list[Outcome] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="percmusic-faults-") as tmp:
        ref = make_reference(Path(tmp))
        for command in opts.commands.split(","):
            for mode in modes:
                for _ in range(opts.kills):
                    o = kill_and_resume(ref, command, mode, rng, Path(tmp))
                    outcomes.append(o)
                    flag = "ok" if o.check_ok and o.identical else "FAIL"
                    print(
                        f"{flag:4} {command:9} {mode:5} {o.point:22} killed={o.killed} {o.detail}",
                        flush=True,
                    )
        print("\nreference events per command:", {c: ref.events.get(c) for c in COMMANDS})
        print("reference files per command:", {c: ref.files.get(c) for c in COMMANDS})
        if opts.attacks:
            import attacks

            attacks.main(ref, Path(tmp), opts.hostile, rng)
        print("reference seconds per command:", {c: round(s, 2) for c, s in ref.seconds.items()})
    print()
    print(_summary(outcomes))
    bad = [o for o in outcomes if not (o.check_ok and o.identical)]
    print(
        f"\nkills survived: {sum(o.check_ok and o.rerun_ok for o in outcomes)}/"
        f"{len(outcomes)} (killed mid-run: {sum(o.killed for o in outcomes)}); reruns "
        f"identical: {sum(o.identical for o in outcomes)}; check failures: "
        f"{sum(not o.check_ok for o in outcomes)}; wall {time.monotonic() - started:.0f} s"
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
