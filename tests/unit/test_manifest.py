"""Manifests (CSV / JSONL) and FMA's own layout: discovery, ingest, the declared split."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from trees import SR, tone_clip, write_wav

from percmusic_cli import api
from percmusic_cli.audio import decode
from percmusic_cli.datasets.fma import discover_fma
from percmusic_cli.datasets.manifest import read_manifest
from percmusic_cli.errors import DataError, UsageError
from percmusic_cli.store import Store

HAS_MP3 = "MP3" in sf.available_formats()


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def manifest_dir(tmp_path: Path) -> Path:
    """Six good clips in two labels (one outside the manifest's folder), and a stray file."""
    base = tmp_path / "mine"
    for i, (label, freq) in enumerate([("a", 220.0), ("b", 660.0)] * 3):
        write_wav(base / "audio" / f"{label}{i}.wav", tone_clip(freq, seed=i), SR)
    write_wav(tmp_path / "elsewhere" / "far.wav", tone_clip(440.0), SR)
    (base / "audio" / "notes.txt").write_text("not audio")
    return base


def test_csv_manifest_keeps_good_rows_and_names_each_bad_row(manifest_dir: Path) -> None:
    far = (manifest_dir.parent / "elsewhere" / "far.wav").resolve()
    rows = [
        ["audio/a0.wav", "a", "train", ""],
        ["audio/b1.wav", "b", "validation", "t-b1"],
        ["audio/a2.wav", "a", "test", ""],
        [str(far), "a", "", "far"],  # absolute: allowed
        ["../elsewhere/far.wav", "a", "", "far-again"],  # same file: refused
        ["audio/missing.wav", "a", "train", ""],
        ["audio/b3.wav", "", "train", ""],
        ["audio/a4.wav", "a", "holdout", ""],
        ["audio/b5.wav", "b", "train", "t-b1"],
        ["audio/notes.txt", "a", "", ""],
    ]
    found = read_manifest(
        _write_csv(manifest_dir / "m.csv", ["path", "label", "split", "track_id"], rows)
    )
    assert found.kind == "manifest" and found.root == manifest_dir.resolve()
    assert [f.track_id for f in found.files] == ["audio/a0", "t-b1", "audio/a2", "far"]
    assert found.files[3].path == far and found.files[0].rel_path == "audio/a0.wav"
    assert found.splits == {"audio/a0": "train", "t-b1": "valid", "audio/a2": "test"}
    reasons = sorted(p.reason for p in found.problems)
    assert reasons == [
        "row 10: duplicate track id 't-b1' (kept row 3)",
        "row 11: not an audio file (.txt)",
        "row 6: same file as row 5",
        "row 7: no such file",
        "row 8: no 'label' value",
        "row 9: split 'holdout' is not one of train, valid, test, excluded",
    ]
    assert any(p.path.endswith("missing.wav") for p in found.problems)


def test_jsonl_manifest_and_another_label_column(manifest_dir: Path) -> None:
    lines = [
        json.dumps({"path": "audio/a0.wav", "genre": "a", "split": "train"}),
        "",
        "[1, 2]",
        json.dumps({"path": "audio/b1.wav", "genre": "b", "year": 1999}),
    ]
    path = manifest_dir / "m.jsonl"
    path.write_text("\n".join(lines) + "\n")
    found = read_manifest(path, label_column="genre")
    assert [(f.track_id, f.label) for f in found.files] == [("audio/a0", "a"), ("audio/b1", "b")]
    assert [p.reason for p in found.problems] == ["row 3: not a JSON object"]
    assert found.splits == {"audio/a0": "train"}
    with pytest.raises(UsageError, match="no 'label' column"):
        read_manifest(path)


def test_manifest_without_required_columns_is_a_usage_error(manifest_dir: Path) -> None:
    path = _write_csv(manifest_dir / "m.csv", ["file", "label"], [["audio/a0.wav", "a"]])
    with pytest.raises(UsageError, match="no 'path' column"):
        read_manifest(path)
    with pytest.raises(DataError, match="no rows"):
        read_manifest(_write_csv(manifest_dir / "e.csv", ["path", "label"], []))
    with pytest.raises(UsageError, match=r"\.csv or \.jsonl"):
        read_manifest(manifest_dir / "audio" / "notes.txt")
    nul = manifest_dir / "nul.jsonl"
    nul.write_text(json.dumps({"path": "audio/a0\u0000.wav", "label": "a"}) + "\n")
    (problem,) = read_manifest(nul).problems
    assert problem.reason.startswith("row 1: unusable path")


def test_manifest_ingest_then_its_split_as_a_filter_method(
    manifest_dir: Path, tmp_path: Path
) -> None:
    rows = [
        [f"audio/{n}.wav", n[0], part]
        for n, part in [
            ("a0", "train"),
            ("b1", "train"),
            ("a2", "valid"),
            ("b3", "test"),
            ("a4", ""),
        ]
    ]
    rows.append(["audio/gone.wav", "a", "train"])
    manifest = _write_csv(manifest_dir / "m.csv", ["path", "label", "split"], rows)
    store = Store(tmp_path / "store")
    summary = api.ingest(store, manifest=manifest)
    assert (summary.dataset, summary.kind, summary.ok, summary.failed) == ("m", "manifest", 5, 0)
    assert [p["reason"] for p in summary.problems] == ["row 7: no such file"]
    split = api.split(store, "m", "manifest")
    assert split.name == "manifest"
    assert split.counts == {
        "excluded": {"a": 1},
        "test": {"b": 1},
        "train": {"a": 1, "b": 1},
        "valid": {"a": 1},
    }
    again = api.ingest(store, manifest=manifest)
    assert (again.new, again.skipped) == (0, 5)


def test_manifest_without_split_refuses_the_manifest_method(
    manifest_dir: Path, tmp_path: Path
) -> None:
    manifest = _write_csv(
        manifest_dir / "m.csv", ["path", "label"], [["audio/a0.wav", "a"], ["audio/b1.wav", "b"]]
    )
    store = Store(tmp_path / "store")
    api.ingest(store, manifest=manifest)
    with pytest.raises(UsageError, match="declares no split"):
        api.split(store, "m", "manifest")


def test_manifest_with_nothing_usable_is_a_data_error(manifest_dir: Path, tmp_path: Path) -> None:
    manifest = _write_csv(manifest_dir / "m.csv", ["path", "label"], [["audio/gone.wav", "a"]])
    with pytest.raises(DataError, match="nothing usable"):
        api.ingest(Store(tmp_path / "store"), manifest=manifest)


# FMA -------------------------------------------------------------------------------------

# The real tracks.csv: two header rows name (group, field), the third holds only track_id.
_TOP = ["", "album", "set", "set", "track", "track", "track"]
_SUB = ["", "comments", "split", "subset", "bit_rate", "genre_top", "title"]


def _fma_tree(root: Path, audio: dict[int, str], rows: list[list[str]], mp3: bool) -> Path:
    meta = root / "fma_metadata"
    meta.mkdir(parents=True)
    with open(meta / "tracks.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerows([_TOP, _SUB, ["track_id"] + [""] * (len(_TOP) - 1), *rows])
    for tid, subset in audio.items():
        path = root / f"fma_{subset}" / f"{tid:06d}"[:3] / f"{tid:06d}.mp3"
        clip = tone_clip(200.0 + 50 * tid, seconds=1.5, seed=tid)
        if mp3:
            path.parent.mkdir(parents=True, exist_ok=True)
            sf.write(str(path), np.stack([clip, 0.5 * clip], 1), 44100, format="MP3")
        else:
            write_wav(path, clip, SR)  # discovery only: never decoded
    return root


_ROWS = [
    ["2", "0", "training", "small", "256000", "Hip-Hop", "Food"],
    ["3", "0", "validation", "medium", "256000", "Pop", "Electric\nAve"],  # multi-line field
    ["5", "0", "test", "small", "256000", "", "No genre"],
    ["10", "0", "training", "small", "320000", "Pop", "Missing audio"],
    ["140", "0", "test", "small", "320000", "Folk", "Ok"],
    ["141", "0", "bogus", "small", "320000", "Folk", "Bad split"],
]


def test_fma_layout_subsets_and_reasons(tmp_path: Path) -> None:
    audio = {2: "small", 5: "small", 140: "small", 141: "small", 999: "small"}
    root = _fma_tree(tmp_path / "fma", audio, _ROWS, mp3=False)
    found = discover_fma(root)  # only fma_small is present: auto-detected
    assert found.kind == "fma" and found.root.name == "fma_small"
    assert [(f.track_id, f.label, f.rel_path) for f in found.files] == [
        ("000002", "Hip-Hop", "000/000002.mp3"),
        ("000140", "Folk", "000/000140.mp3"),
    ]
    assert found.splits == {"000002": "train", "000140": "test"}
    reasons = {Path(p.path).name: p.reason for p in found.problems}
    assert reasons["000005.mp3"] == "tracks.csv line 7: no track.genre_top (skipped)"
    assert reasons["000010.mp3"] == "tracks.csv line 8: no audio file"
    assert reasons["000141.mp3"] == "tracks.csv line 10: unknown set.split 'bogus'"
    assert reasons["000999.mp3"] == "not a track of fma_metadata/tracks.csv"
    assert "000003.mp3" not in reasons  # a medium track is not part of small

    (root / "fma_medium" / "000").mkdir(parents=True)
    with pytest.raises(UsageError, match="choose one with --subset"):
        discover_fma(root)
    medium = discover_fma(root, "medium")
    assert sum("no audio file" in p.reason for p in medium.problems) == 4  # 2, 3, 10, 140
    with pytest.raises(UsageError, match="--subset 'tiny'"):
        discover_fma(root, "tiny")


def test_fma_tracks_csv_of_another_shape_is_refused(tmp_path: Path) -> None:
    root = _fma_tree(tmp_path / "fma", {2: "small"}, [], mp3=False)
    (root / "fma_metadata" / "tracks.csv").write_text("track_id,genre\n2,Pop\n")
    with pytest.raises(DataError, match=r"not FMA's tracks\.csv"):
        discover_fma(root)


@pytest.mark.skipif(not HAS_MP3, reason="libsndfile here cannot write MP3")
def test_fma_mp3_ingest_decodes_and_keeps_set_split(tmp_path: Path) -> None:
    root = _fma_tree(tmp_path / "fma", {2: "small", 140: "small"}, _ROWS, mp3=True)
    store = Store(tmp_path / "store")
    summary = api.ingest(store, root)
    assert (summary.dataset, summary.kind, summary.ok, summary.failed) == ("fma_small", "fma", 2, 0)
    split = api.split(store, "fma_small", "manifest")
    assert split.counts == {"test": {"Folk": 1}, "train": {"Hip-Hop": 1}}
    # The decoded MP3 is the written clip: same length, rate and waveform within the codec.
    decoded = decode(root / "fma_small" / "000" / "000140.mp3", target_sr=44100)
    source = tone_clip(200.0 + 50 * 140, seconds=1.5, seed=140) * 0.75  # mean of L and R/2
    assert (decoded.orig_sr, decoded.channels) == (44100, 2)
    assert decoded.samples.size == source.size
    assert np.corrcoef(decoded.samples, source)[0, 1] > 0.99


@pytest.mark.parametrize("channels", [2, 6])
def test_fast_downmix_is_the_channel_mean_bit_for_bit(channels: int) -> None:
    from percmusic_cli.audio import _downmix

    block = np.random.default_rng(channels).standard_normal((5000, channels)).astype(np.float32)
    assert np.array_equal(_downmix(block), block.mean(axis=1))


def test_auto_takes_the_declared_split_only_when_every_part_is_usable(tmp_path: Path) -> None:
    """A manifest with a split column: `filter` (auto) takes that split when every label
    has at least MIN_PER_PART tracks in each part, else a stratified random split."""
    from percmusic_cli.steps.split import MIN_PER_PART

    per_label = 3 * MIN_PER_PART
    base = tmp_path / "mine"
    rows = []
    for label, freq in (("a", 220.0), ("b", 660.0)):
        for i in range(per_label):
            write_wav(base / f"{label}{i}.wav", tone_clip(freq, seed=i), SR)
            rows.append([f"{label}{i}.wav", label, ("train", "valid", "test")[i % 3]])
    good = _write_csv(base / "good.csv", ["path", "label", "split"], rows)
    thin = _write_csv(
        base / "thin.csv",
        ["path", "label", "split"],
        [[p, lab, "train" if lab == "b" else part] for p, lab, part in rows],
    )
    store = Store(tmp_path / "store")
    api.ingest(store, manifest=good)
    api.ingest(store, manifest=thin)
    chosen = api.split(store, "good", "auto")
    assert chosen.method == "manifest" and "declares" in chosen.notes[0]
    assert chosen.counts["test"] == {"a": MIN_PER_PART, "b": MIN_PER_PART}
    fallback = api.split(store, "thin", "auto")
    assert fallback.method == "random"
    assert (
        "not the split the dataset declares" in fallback.notes[0]
        and "b: train" in fallback.notes[0]
    )
