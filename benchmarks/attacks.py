"""Hostile inputs and store tampering (issue 13's campaign, kept): each attack is tried,
then judged handled when every command run on it (for tampering: status, check,
check --repair, features, check) exits 0, 1 or 2 with at most one `error:` line, no
"internal error", no traceback and no raw escape sequence on the terminal; a hostile
name must not give a usage error, a disk-full run must end in success or the ENOSPC
message, and a file the lock symlink points to must be left as it was.

Run through `benchmarks/faults.py --attacks` (it builds the reference stores used here).
Prints one line per attack and the counts: tried, handled.
"""

from __future__ import annotations

import os
import random
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

from faults import Reference  # noqa: E402

_MAIN = "import sys; from percmusic_cli.cli.app import main; sys.argv[0] = 'percmusic'; main()"
HOSTILE_CHARS = [*list("ab[]=#:;!*\\é "), "[/]", "\x1b[31m", "\n", "\r", "\x07", "\x9b", "[bold]"]


@dataclass
class Attack:
    group: str
    name: str
    handled: bool
    detail: str = ""


def _clean(rc: int, err: str) -> tuple[bool, str]:
    """Exit 0, 1 or 2; at most one `error:` line; nothing internal; no raw escape."""
    errors = [ln for ln in err.splitlines() if ln.startswith("error:")]
    bad = (
        rc not in (0, 1, 2)
        or len(errors) > 1
        or "internal error" in err
        or "Traceback" in err
        or "\x1b[31m" in err
    )
    return not bad, (errors[0] if errors else f"exit {rc}")


def _cmd(store: Path, *args: str) -> tuple[int, str]:
    cmd = [sys.executable, "-c", _MAIN, "--store", str(store), *args]
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    return proc.returncode, proc.stdout + proc.stderr


# -- hostile names ------------------------------------------------------------------


def hostile_names(workdir: Path, n: int, rng: random.Random) -> list[Attack]:
    sys.path.insert(0, str(REPO / "tests"))
    from trees import SR, tone_clip, write_wav

    out: list[Attack] = []
    for i in range(n):
        label = "L" + "".join(rng.choice(HOSTILE_CHARS) for _ in range(rng.randint(1, 6)))
        label = label.replace("/", "[")  # "[/]" becomes a nested folder otherwise
        root = workdir / f"hostile-{i}"
        shutil.rmtree(root, ignore_errors=True)
        data = root / "data"
        for j, lab in enumerate((label, "plain")):
            write_wav(data / lab / f"{lab}{j}.wav", tone_clip(300.0 + 90 * j, seconds=0.6), SR)
        (data / label / "junk[/x].wav".replace("/", "")).write_bytes(b"junk" * 50)
        ok, detail = True, ""
        for args in (("ingest", str(data)), ("status", "--errors"), ("results",), ("check",)):
            rc, text = _cmd(root / "store", *args)
            fine, line = _clean(rc, text)
            ok &= fine and rc != 1
            detail = detail or ("" if fine else f"{args[0]}: {line}")
        out.append(Attack("hostile name", repr(label), ok, detail))
    return out


# -- store tampering -----------------------------------------------------------------


def _first(store: Path, pattern: str) -> Path:
    found = sorted(store.glob(pattern))
    if not found:
        raise FileNotFoundError(pattern)
    return found[0]


def _truncate(path: Path, keep: float = 0.5) -> None:
    path.write_bytes(path.read_bytes()[: int(path.stat().st_size * keep)])


def _sqlite(store: Path) -> None:
    db = store / "percmusic.duckdb"
    db.unlink()
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()


def _empty_db(store: Path) -> None:
    import duckdb

    (store / "percmusic.duckdb").unlink()
    duckdb.connect(str(store / "percmusic.duckdb")).close()


def _lock_symlink(store: Path) -> None:
    victim = store.parent / "victim.txt"
    victim.write_text("keep")
    (store / ".writer.lock").unlink(missing_ok=True)
    (store / ".writer.lock").symlink_to(victim)


def _superseded(store: Path) -> None:
    ckpt = _first(store, "checkpoints/*/ckpt-*")
    shutil.copytree(ckpt, ckpt.with_name("ckpt-00000000"))


def _part(store: Path, how: str) -> None:
    # a features rerun over a changed source: make parts by leaving a .parts folder
    feats = _first(store, "arrays/features-*.npy")
    parts = feats.with_name(feats.name + ".parts")
    parts.mkdir(exist_ok=True)
    target = parts / "chunk-00000.npz"
    if how == "truncated":
        np.savez(target, images=np.zeros((2, 2, 2), np.float32))
        _truncate(target)
    else:
        np.savez(target, images=np.zeros((1, 3, 3), np.float32))


TAMPER: dict[str, Callable[[Path], None]] = {
    "truncated array": lambda s: _truncate(_first(s, "arrays/features-*.npy")),
    "array with bytes appended": lambda s: (
        _first(s, "arrays/features-*.npy").open("ab").write(b"\0" * 64)
    ),
    "array deleted": lambda s: _first(s, "arrays/features-*.npy").unlink(),
    "truncated part": lambda s: _part(s, "truncated"),
    "wrong-shape part": lambda s: _part(s, "shape"),
    "temporary leftovers": lambda s: (s / "arrays" / ".tmp-deadbeef").write_bytes(b"x"),
    "superseded checkpoint": _superseded,
    "checkpoint weights truncated": lambda s: _truncate(
        _first(s, "checkpoints/*/ckpt-*/model.safetensors")
    ),
    "schema-less database": _empty_db,
    "half-truncated database": lambda s: _truncate(s / "percmusic.duckdb"),
    "SQLite file as database": _sqlite,
    "database deleted": lambda s: (s / "percmusic.duckdb").unlink(),
    "lock file symlink": _lock_symlink,
    "orphan file in arrays/": lambda s: (s / "arrays" / "mine.txt").write_text("mine"),
}


def tampering(ref: Reference, workdir: Path) -> list[Attack]:
    base = ref.upto("train")
    out: list[Attack] = []
    for name, damage in TAMPER.items():
        store = workdir / "tamper" / "store"
        shutil.rmtree(store.parent, ignore_errors=True)
        shutil.copytree(base, store)
        damage(store)
        ok, detail = True, ""
        steps: list[tuple[str, ...]] = [
            ("status",),
            ("check",),
            ("check", "--repair"),
            tuple(ref.args["features"]),
            ("check",),
        ]
        for args in steps:
            rc, text = _cmd(store, *args)
            fine, line = _clean(rc, text)
            ok &= fine
            detail = f"{detail}; {args[0]} -> {line}" if not fine else detail
        if (store.parent / "victim.txt").exists():
            ok &= (store.parent / "victim.txt").read_text() == "keep"
        out.append(Attack("tampering", name, ok, detail.strip("; ")))
    return out


# -- disk full ----------------------------------------------------------------------


def disk_full(ref: Reference, workdir: Path) -> list[Attack]:
    mount = workdir / "tmpfs"
    mount.mkdir(exist_ok=True)
    out: list[Attack] = []
    for size in ("256k", "1m", "4m"):
        proc = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)],
            capture_output=True,
        )
        if proc.returncode != 0:
            return [Attack("disk full", "tmpfs", True, "skipped: cannot mount a tmpfs here")]
        try:
            ok, detail = True, ""
            for args in (ref.args["ingest"], ref.args["filter"], ref.args["features"]):
                rc, text = _cmd(mount / "store", *args)
                fine, line = _clean(rc, text)
                ok &= fine and (rc == 0 or "No space left on device" in line)
                detail = detail or (line if rc else "")
                if rc:
                    break
            out.append(Attack("disk full", f"{size} store", ok, detail))
        finally:
            subprocess.run(["umount", str(mount)], capture_output=True)
    return out


def main(ref: Reference, workdir: Path, n_hostile: int, rng: random.Random) -> list[Attack]:
    attacks = [
        *hostile_names(workdir, n_hostile, rng),
        *tampering(ref, workdir),
        *disk_full(ref, workdir),
    ]
    for a in attacks:
        print(f"{'ok' if a.handled else 'FAIL':4} {a.group:13} {a.name:32} {a.detail}", flush=True)
    groups: dict[str, list[Any]] = {}
    for a in attacks:
        groups.setdefault(a.group, []).append(a)
    print("\n| attacks | tried | handled |\n|---|---|---|")
    for group, items in groups.items():
        print(f"| {group} | {len(items)} | {sum(a.handled for a in items)} |")
    return attacks


# -- issue 20's classes (benchmarks/attacks20.py) ---------------------------------------


def issue20(workdir: Path, groups: tuple[str, ...] | None = None) -> list[Any]:
    """Issue 20's campaign: bad rows, interrupted removals, special files, limits,
    figures --out, labels and queries, schedulers, plugins and cache names."""
    import attacks20

    return attacks20.main(workdir / "issue20", groups or attacks20.GROUPS)


if __name__ == "__main__":
    # Run issue 20's classes alone: python benchmarks/attacks.py [WORKDIR] [GROUP ...]
    import tempfile

    sys.path.insert(0, str(REPO / "benchmarks"))
    args = sys.argv[1:]
    where = Path(args.pop(0)) if args else Path(tempfile.mkdtemp(prefix="percmusic-attacks-"))
    found = issue20(where, tuple(args) or None)
    sys.exit(0 if all(c.handled for c in found) else 1)
