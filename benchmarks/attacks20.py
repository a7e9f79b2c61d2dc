"""Issue 20's campaign, black-box through the CLI: every class of fault it found, with
other cases of each. Imported by benchmarks/attacks.py (`python benchmarks/attacks.py`
runs it alone; `faults.py --attacks` runs it with the older groups).

A case is handled when every command run on it exits 0, 1 or 2 with at most one
`error:` line, no "internal error", no traceback, within its time limit (no hang), and
its own check holds (nothing written outside the store, JSON that parses, good rows
kept, ...). Kills are real SIGKILLs, counted apart.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
_MAIN = "import sys; from percmusic_cli.cli.app import main; sys.argv[0] = 'percmusic'; main()"
# Dies by SIGKILL when the step function named in argv[1] is reached (module:function).
_KILL_AT = (
    "import os, signal, sys, importlib\n"
    "mod, fn = sys.argv.pop(1).split(':')\n"
    "m = importlib.import_module(mod)\n"
    "setattr(m, fn, lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL))\n" + _MAIN
)
TIMEOUT = 240


@dataclass
class Case:
    group: str
    name: str
    handled: bool
    detail: str = ""
    kills: int = 0


@dataclass
class Ran:
    rc: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


def _env(site: Path | None = None) -> dict[str, str]:
    path = [str(REPO)] + ([str(site)] if site else [])
    return {**os.environ, "PYTHONPATH": os.pathsep.join(path), "OMP_NUM_THREADS": "1"}


def run(
    store: Path,
    *args: str,
    site: Path | None = None,
    prefix: str = "",
    timeout: int = TIMEOUT,
    code: str = _MAIN,
    pre: tuple[str, ...] = (),
) -> Ran:
    """One CLI call; `prefix` is a shell prefix such as `ulimit -v 1500000;`."""
    argv = [sys.executable, "-c", code, *pre, "--store", str(store), *args]
    if prefix:
        argv = ["bash", "-c", prefix + ' exec "$@"', "bash", *argv]
    try:
        proc = subprocess.run(
            argv, cwd=REPO, env=_env(site), capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return Ran(124, "", f"hang: no answer in {timeout} s")
    return Ran(proc.returncode, proc.stdout, proc.stderr)


def clean(r: Ran) -> tuple[bool, str]:
    """Exit 0, 1 or 2; at most one `error:` line; nothing internal; no traceback."""
    errors = [ln for ln in r.err.splitlines() if ln.startswith("error:")]
    bad = r.rc not in (0, 1, 2) or len(errors) > 1 or "internal error" in r.text
    bad = bad or "Traceback" in r.text
    last = (r.err.strip().splitlines() or [f"exit {r.rc}"])[-1]
    return not bad, (errors[0] if errors else f"exit {r.rc}: {last[:160]}")


def judged(group: str, name: str, runs: list[Ran], extra: bool = True, why: str = "") -> Case:
    ok, detail = extra, "" if extra else why
    for r in runs:
        fine, line = clean(r)
        ok &= fine
        if not fine:
            detail = f"{detail}; {line}".strip("; ")
    return Case(group, name, ok, detail)


# -- a small store: two labels, six clips each ---------------------------------------


def _clips(folder: Path, n: int = 6) -> None:
    sys.path.insert(0, str(REPO / "tests"))
    from trees import SR, tone_clip, write_wav

    for label, freq in (("low", 220.0), ("high", 880.0)):
        for i in range(n):
            write_wav(folder / label / f"{label}{i}.wav", tone_clip(freq + 7 * i, 0.6, seed=i), SR)


def base_store(work: Path) -> Path:
    """ingest, filter, features, distances (mse), knn (mse), one tiny noise model."""
    store = work / "base" / "store"
    if (store / "percmusic.duckdb").is_file():
        return store
    shutil.rmtree(work / "base", ignore_errors=True)
    _clips(work / "base" / "data")
    steps = [
        ("ingest", str(work / "base" / "data")),
        ("filter", "--split", "random", "--ratios", "0.5,0,0.5"),
        ("features",),
        ("distances", "--metric", "mse"),
        ("knn", "--metric", "mse"),
        (
            "train",
            "--loss",
            "mse",
            "--steps",
            "2",
            "--batch",
            "2",
            "--patch",
            "32",
            "--hidden",
            "4",
            "--latent",
            "4",
            "--device",
            "cpu",
        ),
    ]
    for args in steps:
        r = run(store, *args)
        if r.rc != 0:
            raise RuntimeError(f"base store: {args[0]} failed: {r.text[-400:]}")
    return store


def copy_store(base: Path, work: Path, name: str) -> Path:
    target = work / "cases" / name / "store"
    shutil.rmtree(target.parent, ignore_errors=True)
    shutil.copytree(base, target)
    return target


def _json(r: Ran) -> object:
    try:
        return json.loads(r.out)
    except ValueError:
        return None


# -- one bad row must not sink a batch -----------------------------------------------


def slug(name: str) -> str:
    """A folder name for a case: DuckDB reads a backslash in its path as a separator."""
    return "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_.") else "_" for ch in name)


# Manifest rows that must each be one problem naming its row, beside six good rows that
# must all be ingested: (row, a link to make in the manifest's folder first, if any).
_BAD_ROWS: dict[str, tuple[str, Callable[[Path], object] | None]] = {
    "JSONL label \\ud800": (
        '{"path": "data/low/low0.wav", "label": "\\ud800", "track_id": "s"}',
        None,
    ),
    "JSONL track_id \\udfff": (
        '{"path": "data/low/low1.wav", "label": "x", "track_id": "\\udfff"}',
        None,
    ),
    "JSONL key \\ud83d": (
        '{"path": "data/low/low1.wav", "label": "x", "\\ud83d": "y", "track_id": "k"}',
        None,
    ),
    "deeply nested row": ("[" * 5000, None),
    "NUL in path": ('{"path": "a\\u0000b.wav", "label": "x"}', None),
    "60 MB line": ('{"path": "x.wav", "label": "' + "y" * 60_000_000 + '"}', None),
    "symlink loop row": (
        json.dumps({"path": "loop1.wav", "label": "low"}),
        lambda d: (
            (d / "loop1.wav").symlink_to("loop2.wav"),
            (d / "loop2.wav").symlink_to("loop1.wav"),
        ),
    ),
    "link to a folder row": (
        json.dumps({"path": "dir.wav", "label": "low"}),
        lambda d: (d / "dir.wav").symlink_to(d / "data"),
    ),
}


def _manifest_rows(work: Path) -> list[Case]:
    """Every bad row of `_BAD_ROWS` in one manifest after six good ones, one `ingest`: each
    bad row must be one problem that names its row, and the six good rows ingested. One run
    for all: a bad row must not sink the others, and each case cost a CLI process before."""
    root = work / "cases" / "manifest-rows"
    shutil.rmtree(root, ignore_errors=True)
    _clips(root / "data", 3)
    good = [
        json.dumps({"path": f"data/{lab}/{lab}{i}.wav", "label": lab})
        for lab in ("low", "high")
        for i in range(3)
    ]
    for _row, make in _BAD_ROWS.values():
        if make is not None:
            make(root)
    bad = [row for row, _make in _BAD_ROWS.values()]
    (root / "m.jsonl").write_text("\n".join([*good, *bad]) + "\n", encoding="utf-8")
    r = run(root / "store", "ingest", "--manifest", str(root / "m.jsonl"), "--json")
    doc = _json(r)
    problems = doc.get("problems", []) if isinstance(doc, dict) else []
    reasons = [str(p.get("reason", "")) for p in problems if isinstance(p, dict)]
    whole = isinstance(doc, dict) and doc.get("ok") == len(good) and len(problems) == len(bad)
    cases = []
    for row_no, name in enumerate(_BAD_ROWS, start=len(good) + 1):
        named = sum(reason.startswith(f"row {row_no}:") for reason in reasons) == 1
        why = f"rc {r.rc}, summary {str(doc)[:120]}"
        cases.append(judged("bad rows", name, [r], whole and named, why))
    return cases


def bad_rows(work: Path) -> list[Case]:
    return [*_manifest_rows(work), *fma_rows(work), corrected_manifest(work)]


_FMA_TOP = ["", "set", "set", "set", "track", "track", "track"]
_FMA_SUB = ["", "comments", "split", "subset", "bit_rate", "genre_top", "title"]


def _fma(root: Path, ids: list[str], files: list[str]) -> Path:
    import csv

    sys.path.insert(0, str(REPO / "tests"))
    from trees import SR, tone_clip, write_wav

    shutil.rmtree(root, ignore_errors=True)
    (root / "fma_metadata").mkdir(parents=True)
    with open(root / "fma_metadata" / "tracks.csv", "w", newline="", encoding="utf-8") as fh:
        rows = [
            [i, "0", "training", "small", "1", "Pop" if n % 2 else "Rock", "t"]
            for n, i in enumerate(ids)
        ]
        csv.writer(fh).writerows([_FMA_TOP, _FMA_SUB, ["track_id"] + [""] * 6, *rows])
    for n, name in enumerate(files):
        write_wav(root / "fma_small" / name, tone_clip(300.0 + 40 * n, 0.6, seed=n), SR)
    return root


def fma_rows(work: Path) -> list[Case]:
    good_ids = ["2", "3", "4", "5"]
    good = [f"000/{int(i):06d}.mp3" for i in good_ids]
    variants: dict[str, tuple[list[str], list[str]]] = {
        "FMA track id ²": ([*good_ids, "²"], good),
        "FMA track id ٣ (Arabic digit)": ([*good_ids, "٣"], good),
        "FMA file ²³.mp3": (good_ids, [*good, "000/²³.mp3"]),
        "FMA ids 2 and 02": ([*good_ids, "02"], good),
        "FMA id 1234567 (7 digits)": ([*good_ids, "1234567"], good),
        "FMA id -5": ([*good_ids, "-5"], good),
    }
    out = []
    for name, (ids, files) in variants.items():
        root = _fma(work / "cases" / slug(name), ids, files)
        r = run(root / "store", "ingest", str(root), "--json")
        doc = _json(r)
        ok = isinstance(doc, dict) and doc.get("ok") == 4 and len(doc.get("problems", [])) >= 1
        out.append(judged("bad rows", name, [r], ok, f"rc {r.rc}, {str(doc)[:100]}"))
    root = _fma(work / "cases" / "fma-unreadable", [*good_ids, "1002"], [*good, "001/001002.mp3"])
    locked = root / "fma_small" / "001"
    locked.chmod(0)
    try:
        r = run(root / "store", "ingest", str(root), "--json")
    finally:
        locked.chmod(0o755)
    note = " (as root every folder is readable)" if os.geteuid() == 0 else ""
    out.append(judged("bad rows", "FMA unreadable subfolder" + note, [r]))
    return out


def corrected_manifest(work: Path) -> Case:
    root = work / "cases" / "corrected-manifest"
    shutil.rmtree(root, ignore_errors=True)
    _clips(root / "data", 3)
    paths = [f"data/{lab}/{lab}{i}.wav" for lab in ("low", "high") for i in range(3)]
    m = root / "m.jsonl"
    m.write_text("\n".join(json.dumps({"path": p, "label": "old"}) for p in paths) + "\n")
    first = run(root / "store", "ingest", "--manifest", str(m))
    m.write_text("\n".join(json.dumps({"path": p, "label": "new"}) for p in paths[:4]) + "\n")
    runs, ok = [first], True
    for force in ((), ("--force",)):
        r = run(root / "store", "ingest", "--manifest", str(m), *force, "--json")
        doc = _json(r)
        runs.append(r)
        ok &= isinstance(doc, dict) and len(doc.get("stale", [])) == 2 and doc.get("ok") == 4
    labels = run(root / "store", "status", "--json")
    ok &= '"new"' in labels.out or "new" in labels.out
    return judged("bad rows", "corrected manifest re-ingested", runs, ok, "labels or stale")


# -- interrupted removals ------------------------------------------------------------


def interrupted_rm(base: Path, work: Path) -> list[Case]:
    out = []
    points = [
        "percmusic_cli.store.remove:drop_models",
        "percmusic_cli.steps.remove:_to_trash",
        "percmusic_cli.store.remove:mark_removing",
    ]
    for point in points:
        store = copy_store(base, work, "rm-" + point.rsplit(":", 1)[1])
        ids = [_one(store, "SELECT run_id FROM runs"), _one(store, "SELECT model_id FROM models")]
        killed = run(store, "rm", "--yes", *ids, code=_KILL_AT, pre=(point,))
        flagged = run(store, "check", "--json")
        again = run(store, "rm", "--yes", *ids)
        final = run(store, "check", "--json")
        doc = _json(final)
        gone = _one(store, "SELECT count(*) FROM models") == "0"
        ok = killed.rc == -signal.SIGKILL and again.rc == 0 and gone
        ok &= isinstance(doc, dict) and bool(doc.get("ok"))
        case = judged(
            "interrupted rm",
            f"SIGKILL at {point.split('.')[-1]}",
            [flagged, again, final],
            ok,
            f"rerun rc {again.rc}: {again.err[-120:]}",
        )
        case.kills = 1
        out.append(case)
    # check --repair finishes it too
    store = copy_store(base, work, "rm-repair")
    model = _one(store, "SELECT model_id FROM models")
    killed = run(
        store, "rm", "--yes", model, code=_KILL_AT, pre=("percmusic_cli.store.remove:drop_models",)
    )
    flagged = run(store, "check", "--json")
    fdoc = _json(flagged)
    repair = run(store, "check", "--repair")
    ok = isinstance(fdoc, dict) and not fdoc.get("ok")  # the half-removed model is flagged
    ok &= _one(store, "SELECT count(*) FROM models") == "0"
    case = judged(
        "interrupted rm",
        "SIGKILL, then check --repair",
        [flagged, repair],
        ok,
        "check did not flag it, or --repair did not finish it",
    )
    case.kills = 1
    out.append(case)
    out += rm_matrices(base, work)
    return out


def rm_matrices(base: Path, work: Path) -> list[Case]:
    store = copy_store(base, work, "rm-matrix")
    dist = _one(store, "SELECT dist_hash FROM distance_sets ORDER BY 1")
    r = run(store, "rm", "--yes", dist[:10])
    c = run(store, "check", "--json")
    doc = _json(c)
    ok = r.rc == 0 and isinstance(doc, dict) and bool(doc.get("ok"))
    cases = [judged("interrupted rm", "rm a distance matrix", [r, c], ok, r.err[-120:])]
    store = copy_store(base, work, "rm-features")
    feat = _one(store, "SELECT feature_hash FROM feature_sets")
    killed = run(
        store, "rm", "--yes", feat, code=_KILL_AT, pre=("percmusic_cli.steps.remove:_journal",)
    )
    r = run(store, "rm", "--yes", feat)
    c = run(store, "check", "--repair", "--json")
    ok = r.rc == 0 and _one(store, "SELECT count(*) FROM distance_sets") == "0"
    case = judged("interrupted rm", "rm a feature set (killed once)", [r, c], ok, r.err[-120:])
    case.kills = int(killed.rc == -signal.SIGKILL)
    cases.append(case)
    return cases


def _one(store: Path, sql: str) -> str:
    import duckdb

    con = duckdb.connect(str(store / "percmusic.duckdb"), read_only=True)
    try:
        row = con.execute(sql).fetchone()
    finally:
        con.close()
    return "" if row is None else str(row[0])


# -- sources that become special files -----------------------------------------------


def special_sources(base: Path, work: Path) -> list[Case]:
    """Five tracks' sources replaced by special files, in one store: one `check --sources` and
    one `features` must each end (no hang), cleanly, and name every replaced file. One store
    for all five: each case cost two CLI processes of its own before, most of it start-up."""
    makers: dict[str, Callable[[Path], None]] = {
        "FIFO": lambda p: os.mkfifo(p),
        "link to /dev/zero": lambda p: p.symlink_to("/dev/zero"),
        "link to /dev/urandom": lambda p: p.symlink_to("/dev/urandom"),
        "folder": lambda p: p.mkdir(),
        "dangling link": lambda p: p.symlink_to("/nonexistent/x.wav"),
    }
    store = copy_store(base, work, "special")
    data = work / "cases" / "special-data"
    shutil.rmtree(data, ignore_errors=True)
    shutil.copytree(work / "base" / "data", data)
    _repoint(store, work / "base" / "data", data)
    victims: dict[str, Path] = {}
    for i, (name, make) in enumerate(makers.items()):
        victims[name] = data / "low" / f"low{i}.wav"
        victims[name].unlink()
        make(victims[name])
    checked = run(store, "check", "--sources", timeout=120)
    feats = run(store, "features", "--frames", "64", timeout=180)
    out = []
    for name, victim in victims.items():
        named = all(str(victim) in r.text for r in (checked, feats))
        ok = named and "hang" not in checked.err + feats.err
        out.append(judged("special files", name, [checked, feats], ok, "hang, or not named"))
    return out


def _repoint(store: Path, old: Path, new: Path) -> None:
    import duckdb

    con = duckdb.connect(str(store / "percmusic.duckdb"))
    try:
        con.execute("UPDATE tracks SET path = replace(path, ?, ?)", [str(old), str(new)])
    finally:
        con.close()


# -- outputs and limits --------------------------------------------------------------


def limits(base: Path, work: Path) -> list[Case]:
    return [*memory_limits(base, work), *other_limits(base, work)]


def memory_limits(base: Path, work: Path) -> list[Case]:
    """`ulimit -v` on the heavy steps: one line naming the step, never an internal error."""
    out = []
    for args in (
        ("distances", "--metric", "nlpd"),
        ("knn", "--metric", "mse"),
        ("distances", "stats", "--metric", "mse"),
        ("features", "--frames", "96"),
    ):
        # 1.5 GB as the issue names. At 800 MB the dynamic loader itself can abort
        # ("cannot allocate memory for thread-local data", exit 127) before any of our code
        # runs, and `distances stats` was seen to hang once (RESULTS.md): not yet a case.
        for vmem in ("1500000",):
            store = copy_store(base, work, "ulimit")
            r = run(store, *args, prefix=f"ulimit -v {vmem};")
            out.append(judged("limits", f"ulimit -v {vmem} {' '.join(args[:2])}", [r]))
    return out


def other_limits(base: Path, work: Path) -> list[Case]:
    """`ulimit -n` with Dask, and `figures --out` at odd places (other branches fix them)."""
    out = []
    store = copy_store(base, work, "ulimit-n")
    r = run(
        store,
        "distances",
        "--metric",
        "nlpd",
        "--scheduler",
        "dask",
        "--workers",
        "2",
        prefix="ulimit -n 32;",
    )
    out.append(judged("limits", "ulimit -n 32 with Dask", [r]))
    for d in ("exists-file", "readonly"):
        store = copy_store(base, work, "figs-" + d)
        target = store.parent / d
        if d == "exists-file":
            target.write_text("x")
        else:
            target.mkdir()
            target.chmod(0o555)
        r = run(store, "figures", "--out", str(target))
        out.append(judged("figures --out", d, [r]))
    for target in ("/dev/null", "x" * 300):
        store = copy_store(base, work, "figs-odd")
        r = run(
            store, "figures", "--out", str(store.parent / target) if target[0] == "x" else target
        )
        out.append(judged("figures --out", target[:20], [r]))
    return out


# -- labels, queries, schedulers -----------------------------------------------------


def labels_and_queries(base: Path, work: Path) -> list[Case]:
    out = []
    for name, label in (
        ("math text", "$\\frac{a}{b}$"),
        ("4096 chars", "L" * 4096),
        ("unbalanced $", "$x"),
        ("markup", "[/bold]"),
    ):
        store = copy_store(base, work, "label-" + name.replace(" ", "-"))
        _relabel(store, label)
        r = run(store, "figures", "--out", str(store.parent / "figs"), timeout=180)
        out.append(judged("labels", name, [r]))
    store = copy_store(base, work, "query")
    for args in (
        ("results", "--dataset", "nope"),
        ("results", "--kind", "nope"),
        ("results", "--split", "nope"),
    ):
        r = run(store, *args)
        ok = r.rc in (1, 2) and "one of" in r.err  # refused, listing the valid values
        out.append(judged("queries", " ".join(args), [r], ok, f"exit {r.rc}: {r.err[:100]}"))
    for spec in ("tcp://h:notaport", "foo://x", "garbage-file", "tcp://127.0.0.1:9"):
        store = copy_store(base, work, "sched")
        given = spec
        if spec == "garbage-file":
            given = str(store.parent / "sched.json")
            Path(given).write_text("{not json")
        r = run(
            store,
            "train",
            "--loss",
            "mse",
            "--steps",
            "3",
            "--patch",
            "32",
            "--hidden",
            "4",
            "--latent",
            "4",
            "--seed",
            "7",
            "--scheduler",
            given,
            timeout=180,
        )
        stuck = _one(store, "SELECT count(*) FROM models WHERE status = 'training'")
        out.append(judged("scheduler", spec, [r], stuck == "0", "a 'training' row left"))
    return out


def _relabel(store: Path, label: str) -> None:
    import duckdb

    con = duckdb.connect(str(store / "percmusic.duckdb"))
    try:
        con.execute("UPDATE tracks SET label = ? WHERE label = 'low'", [label])
        con.execute("UPDATE predictions SET true_label = ? WHERE true_label = 'low'", [label])
    finally:
        con.close()


# -- names that escape; plugins ------------------------------------------------------

_PLUGIN = """
import sys
import numpy as np
import torch
from percmusic_cli.metrics.registry import MetricSpec
{prelude}

def _l1(x, y, s=None):
    return (x - y).abs().flatten(1).mean(1)

def _nd(x, y, s=None):
    return np.asarray(_l1(x, y).detach())

def _boom(x, y, s=None):
    raise ValueError("plugin failed")

def _nograd(x, y, s=None):
    return _l1(x, y).detach()

def _asym(x, y, s=None):
    return (x.flatten(1).mean(1) - 0.5 * y.flatten(1).mean(1)).abs()

def _sim(x, y, s=None):
    return 1.0 / (1.0 + _l1(x, y))

def spec():
    return MetricSpec(name={name!r}, label="attack", distance={fn}{extra})
"""

PLUGINS = {
    "name ../../../../tmp/x": ("../../../../tmp/x", "_l1", "", ""),
    "name with NUL": ("a\\x00b", "_l1", "", ""),
    "sys.exit on import": ("exits", "_l1", "", "sys.exit(0)"),
    "prints on import": ("prints", "_l1", "", "print('hello from a plugin')"),
    "returns an ndarray": ("ndarr", "_nd", "", ""),
    "raises": ("raises", "_boom", "", ""),
    "no gradient": ("nograd", "_nograd", "", ""),
    "similarity with --weights distance": ("simil", "_sim", ", lower_is_better=False", ""),
    "asymmetric": ("asym", "_asym", "", ""),
}


def _install(site: Path, key: str) -> str:
    name, fn, extra, prelude = PLUGINS[key]
    shutil.rmtree(site, ignore_errors=True)
    site.mkdir(parents=True)
    (site / "attack_plugin.py").write_text(
        _PLUGIN.format(name=name, fn=fn, extra=extra, prelude=prelude)
    )
    info = site / "attack_plugin-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: attack-plugin\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text(f"[percmusic.metrics]\n{name} = attack_plugin:spec\n")
    return name


def plugins(base: Path, work: Path) -> list[Case]:
    out = []
    for key in PLUGINS:
        store = copy_store(base, work, "plugin")
        site = store.parent / "site"
        name = _install(site, key)
        before = _around(store)
        runs = [run(store, "metrics", "--json", site=site)]
        ok = _json(runs[0]) is not None
        for args in (
            ("distances", "--metric", "all", "--json"),
            ("distances", "--metric", name, "--json"),
            ("knn", "--metric", name, "--weights", "distance", "--json"),
            (
                "train",
                "--loss",
                name,
                "--steps",
                "2",
                "--patch",
                "32",
                "--hidden",
                "4",
                "--latent",
                "4",
                "--json",
            ),
        ):
            r = run(store, *args, site=site, timeout=180)
            runs.append(r)
            ok &= r.rc != 0 or _json(r) is not None  # exit 0 means JSON that parses
            ok &= not (r.rc == 0 and not r.out.strip())
        outside = sorted(_around(store) - before)
        ok &= not outside
        out.append(judged("plugins", key, runs, ok, f"JSON, empty exit 0 or outside {outside}"))
    out += _asymmetric_order(base, work)
    return out


def _around(store: Path) -> set[Path]:
    """Entries of the four folders above the store, and /tmp/x*: a name that climbs out
    with ../ lands in one of them (other processes' files in /tmp are left out)."""
    found = set(Path("/tmp").glob("x*"))
    for folder in [store.parent, *store.parent.parents][:4]:
        if folder != Path("/tmp"):
            found |= set(folder.iterdir())
    return found


def _asymmetric_order(base: Path, work: Path) -> list[Case]:
    preds = []
    for order in ("knn first", "stats first"):
        store = copy_store(base, work, "asym-" + order.replace(" ", "-"))
        site = store.parent / "site"
        _install(site, "asymmetric")
        if order == "stats first":
            run(store, "distances", "stats", "--metric", "asym", site=site)
        r = run(store, "knn", "--metric", "asym", "--json", site=site)
        doc = _json(r)
        preds.append(json.dumps(doc, sort_keys=True)[:2000] if doc else f"rc {r.rc}")
    same = preds[0] == preds[1] or not preds[0].startswith("[")
    return [Case("plugins", "asymmetric: same predictions either order", same, "differ")]


def model_cache(base: Path, work: Path) -> list[Case]:
    out = []
    for name in ("checkpoint ../../outside", "cache.json without meta.json"):
        store = copy_store(base, work, "cache")
        cache = store.parent / "cache"
        shutil.rmtree(cache, ignore_errors=True)
        env_cache = {"PERCMUSIC_MODEL_CACHE": str(cache)}
        args = (
            "train",
            "--loss",
            "mse",
            "--steps",
            "2",
            "--batch",
            "2",
            "--patch",
            "32",
            "--hidden",
            "4",
            "--latent",
            "4",
            "--device",
            "cpu",
            "--seed",
            "11",
        )
        os.environ.update(env_cache)
        try:
            run(store, *args)
            entries = [p for p in cache.iterdir() if p.is_dir()] if cache.is_dir() else []
            for entry in entries:
                doc = json.loads((entry / "cache.json").read_text())
                if name.startswith("checkpoint"):
                    doc["checkpoint"] = "../../outside"
                    (cache.parent / "outside").mkdir(exist_ok=True)
                else:
                    doc["files"] = {k: v for k, v in doc["files"].items() if k != "meta.json"}
                (entry / "cache.json").write_text(json.dumps(doc))
            fresh = copy_store(base, work, "cache-2")
            first = run(fresh, *args)
            second = run(fresh, *args)
            c = run(fresh, "check", "--json")
            doc = _json(c)
            ok = isinstance(doc, dict) and bool(doc.get("ok")) and first.rc == 0
            out.append(judged("names that escape", name, [first, second, c], ok, "check"))
        finally:
            os.environ.pop("PERCMUSIC_MODEL_CACHE", None)
    return out


GROUPS = ("bad rows", "interrupted rm", "special files", "limits", "labels", "plugins", "cache")


def main(work: Path, only: tuple[str, ...] = GROUPS) -> list[Case]:
    work.mkdir(parents=True, exist_ok=True)
    base = base_store(work)
    cases: list[Case] = []
    table: dict[str, Callable[[], list[Case]]] = {
        "bad rows": lambda: bad_rows(work),
        "interrupted rm": lambda: interrupted_rm(base, work),
        "special files": lambda: special_sources(base, work),
        "limits": lambda: limits(base, work),
        "memory": lambda: memory_limits(base, work),
        "labels": lambda: labels_and_queries(base, work),
        "plugins": lambda: plugins(base, work),
        "cache": lambda: model_cache(base, work),
    }
    for group in only:
        try:
            found = table[group]()
        except Exception as exc:  # one broken group must not hide the others' counts
            found = [Case(group, "the group itself", False, f"{type(exc).__name__}: {exc}")]
        for c in found:
            print(
                f"{'ok' if c.handled else 'FAIL':4} {c.group:17} {c.name:40} {c.detail[:150]}",
                flush=True,
            )
        cases += found
    report(cases)
    return cases


def report(cases: list[Case]) -> None:
    groups: dict[str, list[Case]] = {}
    for c in cases:
        groups.setdefault(c.group, []).append(c)
    print("\n| issue 20 class | cases | kills | failures |\n|---|---|---|---|")
    for group, items in groups.items():
        print(
            f"| {group} | {len(items)} | {sum(c.kills for c in items)} | "
            f"{sum(not c.handled for c in items)} |"
        )
    print(
        f"| all | {len(cases)} | {sum(c.kills for c in cases)} | "
        f"{sum(not c.handled for c in cases)} |"
    )
