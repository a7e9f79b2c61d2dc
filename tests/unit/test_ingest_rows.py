"""One bad row never sinks a batch (issue 20): each becomes one problem line, the rest
are ingested; a corrected manifest re-ingested updates labels and reports stale rows."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest
from trees import SR, tone_clip, write_wav

from percmusic_cli import api
from percmusic_cli.datasets.fma import discover_fma
from percmusic_cli.datasets.manifest import read_manifest
from percmusic_cli.steps.ingest import STALE_REASON
from percmusic_cli.store import Store
from percmusic_cli.store import tables as t

_TOP = ["", "set", "set", "set", "track", "track", "track"]
_SUB = ["", "comments", "split", "subset", "bit_rate", "genre_top", "title"]


def _clips(base: Path, n: int = 4) -> list[str]:
    names = []
    for i in range(n):
        write_wav(base / "a" / f"x{i}.wav", tone_clip(250.0 + 60 * i, seconds=0.5, seed=i), SR)
        names.append(f"a/x{i}.wav")
    return names


def _jsonl(path: Path, rows: list[dict[str, str]], raw: list[str] = ()) -> Path:
    lines = [json.dumps(r) for r in rows] + list(raw)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_lone_surrogate_and_symlink_loop_are_one_problem_each(tmp_path: Path) -> None:
    names = _clips(tmp_path)
    os.symlink("loop2.wav", tmp_path / "loop1.wav")
    os.symlink("loop1.wav", tmp_path / "loop2.wav")
    rows = [{"path": n, "label": "ab"[i % 2]} for i, n in enumerate(names)]
    bad = [
        '{"path": "a/x0.wav", "label": "\\ud800", "track_id": "sur"}',
        '{"path": "a/x1.wav", "label": "ok", "track_id": "\\udfff"}',
        '{"path": "loop1.wav", "label": "a"}',
    ]
    manifest = _jsonl(tmp_path / "m.jsonl", rows, bad)
    found = read_manifest(manifest)
    assert len(found.files) == 4
    reasons = [p.reason for p in found.problems]
    assert len(reasons) == 3
    assert "row 5: field 'label' is not valid Unicode text" in reasons[0]
    assert "row 6: field 'track_id'" in reasons[1]
    assert reasons[2].startswith("row 7: unusable path") and "loop" in reasons[2].lower()
    summary = api.ingest(Store(tmp_path / "store"), None, manifest=manifest)
    assert (summary.ok, len(summary.problems)) == (4, 3)


def test_corrected_manifest_updates_labels_and_reports_stale_rows(tmp_path: Path) -> None:
    names = _clips(tmp_path)
    store = Store(tmp_path / "store")
    manifest = tmp_path / "m.jsonl"
    _jsonl(manifest, [{"path": n, "label": "old"} for n in names])
    api.ingest(store, None, manifest=manifest)
    _jsonl(manifest, [{"path": n, "label": "new"} for n in names[:3]])
    for force in (False, True):
        summary = api.ingest(store, None, manifest=manifest, force=force)
        assert summary.stale == ["a/x3"]
        with store.connect(read_only=True) as con:
            rows = {r.track_id: r for r in t.tracks(con, summary.dataset)}
        assert {rows[f"a/x{i}"].label for i in range(3)} == {"new"}
        assert (rows["a/x3"].status, rows["a/x3"].error) == ("error", STALE_REASON)
        assert summary.ok == 3 and summary.failed == 1
    # Listed again: examined afresh and usable, nothing stale.
    _jsonl(manifest, [{"path": n, "label": "new"} for n in names])
    summary = api.ingest(store, None, manifest=manifest)
    assert (summary.ok, summary.failed, summary.stale) == (4, 0, [])


def _fma(root: Path, ids: list[str], files: list[str]) -> Path:
    (root / "fma_metadata").mkdir(parents=True)
    with open(root / "fma_metadata" / "tracks.csv", "w", newline="", encoding="utf-8") as fh:
        rows = [[i, "0", "training", "small", "1", "Pop", "t"] for i in ids]
        csv.writer(fh).writerows([_TOP, _SUB, ["track_id"] + [""] * 6, *rows])
    for name in files:
        write_wav(root / "fma_small" / name, tone_clip(300.0, seconds=0.5), SR)
    return root


def test_fma_odd_ids_duplicates_and_odd_files_are_problems(tmp_path: Path) -> None:
    files = ["000/000002.mp3", "000/000003.mp3", "000/²³.mp3", "000/٣.mp3"]
    root = _fma(tmp_path / "fma", ["2", "02", "²", "3", "٣"], files)
    found = discover_fma(root)
    assert [f.track_id for f in found.files] == ["000002", "000003"]
    reasons = sorted(p.reason for p in found.problems)
    assert sum("duplicate track id 000002 (kept line 4)" in r for r in reasons) == 1
    assert sum("is not a number of at most 6 digits" in r for r in reasons) == 2
    assert sum(r == "not a track of fma_metadata/tracks.csv" for r in reasons) == 2


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any folder")
def test_fma_unreadable_subfolder_is_a_problem(tmp_path: Path) -> None:
    root = _fma(tmp_path / "fma", ["2", "1002"], ["000/000002.mp3", "001/001002.mp3"])
    locked = root / "fma_small" / "001"
    locked.chmod(0)
    try:
        found = discover_fma(root)
    finally:
        locked.chmod(0o755)
    assert [f.track_id for f in found.files] == ["000002"]
    reasons = " | ".join(p.reason for p in found.problems)
    assert "cannot read the audio file (Permission denied)" in reasons
    assert "cannot list the folder (Permission denied)" in reasons


def test_overlong_and_deeply_nested_jsonl_lines_are_one_problem_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from percmusic_cli.datasets import manifest as mf

    monkeypatch.setattr(mf, "MAX_LINE", 2000)  # a 1 GB line, scaled down
    names = _clips(tmp_path, 2)
    rows = [{"path": n, "label": "a"} for n in names]
    long_row = json.dumps({"path": names[0], "label": "x" * 5000, "track_id": "long"})
    manifest = _jsonl(tmp_path / "m.jsonl", rows, [long_row, "[" * 1500])
    found = read_manifest(manifest)
    assert [f.track_id for f in found.files] == ["a/x0", "a/x1"]
    assert [p.reason for p in found.problems] == [
        "row 3: longer than 2000 characters",
        "row 4: not a JSON object",
    ]
