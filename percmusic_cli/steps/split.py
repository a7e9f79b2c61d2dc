"""`filter`: choose which tracks are train, valid, test or excluded.

Three ways: GTZAN's fault-filtered split (Kereliuk, Sturm and Larsen 2015), a seeded
stratified random split, or a user's own list. Re-running with the same arguments
rewrites the same split; the one made last is the dataset's active split."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from percmusic_cli.config import check_seed, parse_ratios
from percmusic_cli.datasets import gtzan
from percmusic_cli.errors import DataError, UsageError
from percmusic_cli.seeding import numpy_rng
from percmusic_cli.steps.manifest_split import declared_parts, declared_split
from percmusic_cli.store import Store
from percmusic_cli.store import tables as t

PARTS = gtzan.SPLITS  # train, valid, test; every other track is "excluded"
METHODS = ("auto", "fault-filtered", "random", "file", "manifest")
# `auto` takes the fault-filtered split only when every label present has at least this
# many usable tracks in each of train, valid and test: with fewer, per-label scores and
# the choice of k rest on one or two tracks (a partial GTZAN copy of 50 tracks gave
# 19/24/4 with no training track for three genres).
MIN_PER_PART = 3


@dataclass
class SplitSummary:
    dataset: str
    name: str
    method: str
    counts: dict[str, dict[str, int]]  # part -> label -> count
    missing: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def stratified(
    labels: dict[str, str], ratios: tuple[float, float, float], seed: int
) -> dict[str, str]:
    """Per label: shuffle (seeded), then cut by ratios, rounding by largest remainder."""
    rng = numpy_rng(seed)
    by_label: dict[str, list[str]] = defaultdict(list)
    for tid in sorted(labels):
        by_label[labels[tid]].append(tid)
    members: dict[str, str] = {}
    for label in sorted(by_label):
        ids = by_label[label]
        order = rng.permutation(len(ids))
        counts = _largest_remainder(len(ids), ratios)
        cut = np.cumsum([0, *counts])
        for part, lo, hi in zip(PARTS, cut[:-1], cut[1:], strict=True):
            for i in order[lo:hi]:
                members[ids[i]] = part
    return members


def _largest_remainder(n: int, ratios: tuple[float, float, float]) -> list[int]:
    exact = [n * r for r in ratios]
    counts = [int(x) for x in exact]
    for i in sorted(range(3), key=lambda i: exact[i] - counts[i], reverse=True):
        if sum(counts) >= n:
            break
        counts[i] += 1
    return counts


def _fault_filtered(kind: str, ok_ids: set[str]) -> tuple[dict[str, str], list[str]]:
    if kind != "gtzan":
        raise UsageError(
            "the fault-filtered split needs a GTZAN dataset; "
            "use --split random (or file) for other datasets"
        )
    reference = gtzan.fault_filtered_split()
    members = {tid: reference.get(tid, "excluded") for tid in ok_ids}
    missing = sorted(set(reference) - ok_ids)
    return members, missing


def _from_file(path: Path, ok_ids: set[str], rel_to_id: dict[str, str]) -> dict[str, str]:
    """A file of `<track> <part>` lines, or a folder of train/valid/test *.txt lists."""
    pairs: list[tuple[str, str]] = []
    if path.is_dir():
        for part in PARTS:
            for f in sorted(path.glob(f"{part}*.txt")):
                pairs += [(line.strip(), part) for line in _text_lines(f) if line.strip()]
    elif path.is_file():
        for n, line in enumerate(_text_lines(path), 1):
            if not line.strip() or line.startswith("#"):
                continue
            fields = line.replace(",", " ").replace("\t", " ").split()
            if len(fields) != 2 or fields[1] not in (*PARTS, "excluded"):
                raise DataError(f"{path}:{n}: expected '<track> <train|valid|test|excluded>'")
            pairs.append((fields[0], fields[1]))
    else:
        raise DataError(f"{path}: no such split file or folder")
    members = {tid: "excluded" for tid in ok_ids}
    for name, part in pairs:
        tid = rel_to_id.get(name, name)
        if tid in ok_ids:
            members[tid] = part
    if not any(p in PARTS for p in members.values()):
        raise DataError(f"{path}: none of its tracks is in the dataset")
    return members


def _text_lines(path: Path) -> list[str]:
    """The lines of a split file; a binary file is the user's mistake, not a crash."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        text = "\0"
    except OSError as exc:
        raise DataError(f"{path}: cannot read the split file ({exc.strerror})") from None
    if "\0" in text:
        raise UsageError(f"--file {path}: not a text split file of '<track> <part>' lines")
    return text.splitlines()


def check_options(method: str, seed: int, ratios: str) -> tuple[float, float, float] | None:
    """The split options, checked before the store is read: the ratios of a random split
    (auto may become one), else None."""
    if method not in METHODS:
        raise UsageError(f"--split {method!r}: choose one of {', '.join(METHODS)}")
    check_seed(seed)
    return parse_ratios(ratios) if method in ("auto", "random") else None


def make_split(
    store: Store,
    dataset: str,
    method: str,
    seed: int = 0,
    ratios: str = "0.5,0.2,0.3",
    file: Path | None = None,
) -> SplitSummary:
    split_ratios = check_options(method, seed, ratios)
    with store.connect(read_only=True) as con:
        kind = t.dataset_kind(con, dataset) or "folder"
        rows = t.tracks(con, dataset, only_ok=True)
    if not rows:
        raise DataError(f"dataset {dataset!r} has no usable tracks")
    labels = {r.track_id: r.label for r in rows}
    auto_note = None
    if method == "auto":
        method, auto_note = _auto_method(store, dataset, kind, labels)
    missing: list[str] = []
    params: dict[str, Any] = {"method": method}
    if method == "fault-filtered":
        members, missing = _fault_filtered(kind, set(labels))
        name = "fault-filtered"
    elif method == "random":
        split_ratios = split_ratios or parse_ratios(ratios)
        members = stratified(labels, split_ratios, seed)
        params |= {"seed": seed, "ratios": list(split_ratios)}
        name = f"random-s{seed}-" + "-".join(f"{r:g}" for r in split_ratios)
    elif method == "manifest":
        members = declared_split(store, dataset, set(labels))
        name = "manifest"
    else:
        if file is None:
            raise UsageError("--split file needs --file PATH")
        members = _from_file(file, set(labels), {r.rel_path: r.track_id for r in rows})
        params |= {"file": str(file.resolve())}
        name = f"file-{file.stem}"
    with store.connect() as con:
        t.save_split(con, dataset, name, params, members)
    notes = ([auto_note] if auto_note else []) + _notes(missing, members)
    return SplitSummary(dataset, name, method, _counts(members, labels), missing, notes)


def _auto_method(store: Store, dataset: str, kind: str, labels: dict[str, str]) -> tuple[str, str]:
    """The split the dataset declares (a manifest's, FMA's), else the fault-filtered one for
    GTZAN, when usable on the tracks present; else stratified random; and why."""
    declared = declared_parts(store, dataset)
    if declared:
        method, what = "manifest", "the split the dataset declares"
        members = {tid: declared.get(tid, "excluded") for tid in labels}
    elif kind == "gtzan":
        method, what = "fault-filtered", "the fault-filtered split"
        members, _ = _fault_filtered(kind, set(labels))
    else:
        return "random", "auto: a stratified random split (the dataset declares none)"
    short = thin_labels(_counts(members, labels), sorted(set(labels.values())), MIN_PER_PART)
    if not short:
        return method, (
            f"auto: {what} (every label has at least {MIN_PER_PART} tracks in train, valid "
            "and test)"
        )
    return "random", (
        f"auto: a stratified random split, not {what}, which leaves fewer than "
        f"{MIN_PER_PART} tracks in a part for {len(short)} labels "
        f"({'; '.join(short[:4])}{' ...' if len(short) > 4 else ''})"
    )


def thin_labels(counts: dict[str, dict[str, int]], labels: list[str], least: int) -> list[str]:
    """'blues: train 0, test 1' for each label with fewer than `least` tracks in a part."""
    short = []
    for label in labels:
        low = [f"{p} {counts.get(p, {}).get(label, 0)}" for p in PARTS]
        if any(counts.get(p, {}).get(label, 0) < least for p in PARTS):
            short.append(f"{label}: {', '.join(low)}")
    return short


def _counts(members: dict[str, str], labels: dict[str, str]) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for tid, part in members.items():
        per = counts.setdefault(part, {})
        per[labels[tid]] = per.get(labels[tid], 0) + 1
    return {p: dict(sorted(c.items())) for p, c in sorted(counts.items())}


def _notes(missing: list[str], members: dict[str, str]) -> list[str]:
    notes: list[str] = []
    if missing:
        notes.append(
            f"{len(missing)} tracks of the fault-filtered split are missing or failed "
            f"to decode: {', '.join(missing[:10])}{' ...' if len(missing) > 10 else ''}"
        )
    for part in PARTS:
        if part not in members.values():
            notes.append(f"the {part} part is empty")
    return notes
