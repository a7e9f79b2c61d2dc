from __future__ import annotations

import hashlib
import shutil
from collections import Counter
from pathlib import Path

import pytest
from trees import SR, TinyTree, real_gtzan_dir, tone_clip, write_wav

from percmusic_cli.audio import decode
from percmusic_cli.datasets.folder import discover
from percmusic_cli.datasets.gtzan import (
    GENRES,
    fault_filtered_split,
    md5_index,
    md5_status,
    track_id_of,
)
from percmusic_cli.errors import DataError, DecodeError

DEV = real_gtzan_dir()


def test_gtzan_tree_is_recognised(tiny_gtzan_tree: TinyTree) -> None:
    found = discover(tiny_gtzan_tree.root)
    assert found.kind == "gtzan" and found.root.name == "genres"
    ids = [f.track_id for f in found.files]
    assert sorted(ids) == sorted([*tiny_gtzan_tree.good, *tiny_gtzan_tree.broken])
    assert all(f.rel_path == f"{f.label}/{f.track_id}.wav" for f in found.files)
    assert {f.label: None for f in found.files}.keys() == set(GENRES)
    problem_paths = {Path(p.path) for p in found.problems}
    assert problem_paths == {p.resolve() for p in tiny_gtzan_tree.non_audio}


def test_broken_files_are_discovered_then_fail_to_decode(tiny_gtzan_tree: TinyTree) -> None:
    files = {f.track_id: f for f in discover(tiny_gtzan_tree.root).files}
    for track, word in tiny_gtzan_tree.broken.items():
        with pytest.raises(DecodeError, match=word):
            decode(files[track].path)
    assert decode(files[tiny_gtzan_tree.good[0]].path).samples.size > 0


@pytest.mark.parametrize("inner", [("Data", "genres_original"), ()])
def test_kaggle_layout_and_genres_folder_itself(tmp_path: Path, inner: tuple[str, ...]) -> None:
    base = tmp_path.joinpath("kaggle", *inner)
    write_wav(base / "jazz" / "jazz.00001.wav", tone_clip(300.0), SR)
    write_wav(base / "rock" / "rock.00002.wav", tone_clip(200.0), SR)
    found = discover(tmp_path / "kaggle")
    assert found.kind == "gtzan"
    assert [f.track_id for f in found.files] == ["jazz.00001", "rock.00002"]


def test_gtzan_name_checks_and_wav_preferred_over_au(tmp_path: Path) -> None:
    genres = tmp_path / "genres"
    write_wav(genres / "blues" / "blues.00001.wav", tone_clip(300.0), SR)
    (genres / "blues" / "blues.00001.au").write_bytes(b".snd")
    write_wav(genres / "blues" / "rock.00003.wav", tone_clip(300.0), SR)
    write_wav(genres / "blues" / "my song.wav", tone_clip(300.0), SR)
    (genres / "rock").mkdir()
    found = discover(tmp_path)
    assert [f.rel_path for f in found.files] == ["blues/blues.00001.wav"]
    reasons = {Path(p.path).name: p.reason for p in found.problems}
    assert "duplicate track id" in reasons["blues.00001.au"]
    assert "sits in folder 'blues'" in reasons["rock.00003.wav"]
    assert "not a GTZAN track name" in reasons["my song.wav"]
    assert reasons["rock"] == "label folder has no audio files"


def test_generic_folder_tree(tiny_folder_tree: TinyTree) -> None:
    found = discover(tiny_folder_tree.root)
    assert found.kind == "folder"
    ids = [f.track_id for f in found.files]
    assert ids == sorted(ids)
    assert sorted(ids) == sorted([*tiny_folder_tree.good, *tiny_folder_tree.broken])
    assert len(set(ids)) == len(ids)
    assert found.labels == ["birds", "dögs café", "jazz.fusion"]
    by_id = {f.track_id: f for f in found.files}
    assert by_id["dögs café/clip 1"].rel_path == "dögs café/clip 1.wav"
    assert by_id["birds/clip 0"].rel_path == "birds/clip 0.flac"  # first in sorted order
    reasons = {Path(p.path).name: p.reason for p in found.problems}
    assert "duplicate track id" in reasons["clip 0.wav"]
    assert reasons["empty label"] == "label folder has no audio files"
    assert reasons["stray.wav"] == "not inside a label folder"
    assert reasons["cover.jpg"] == "not an audio file (.jpg)"
    assert not any(".hidden" in p.path for p in found.problems)


def test_generic_formats_decode(tiny_folder_tree: TinyTree) -> None:
    by_id = {f.track_id: f for f in discover(tiny_folder_tree.root).files}
    stereo = decode(by_id["birds/stereo"].path)
    assert (stereo.orig_sr, stereo.channels) == (44100, 2)
    assert decode(by_id["birds/vorbis"].path).duration_s == pytest.approx(1.5, abs=0.01)


def test_discovery_is_deterministic_and_root_errors(tiny_folder_tree: TinyTree) -> None:
    assert discover(tiny_folder_tree.root) == discover(tiny_folder_tree.root)
    with pytest.raises(DataError, match="no such"):
        discover(tiny_folder_tree.root / "nope")
    with pytest.raises(DataError, match="not a folder"):
        discover(tiny_folder_tree.root / "stray.wav")


def test_empty_root_reports_a_problem(tmp_path: Path) -> None:
    found = discover(tmp_path)
    assert found.files == [] and len(found.problems) == 1


def test_md5_index_and_status() -> None:
    index = md5_index()
    assert len(index) == 1000 and "blues/blues.00000.wav" in index
    digest = index["blues/blues.00000.wav"]
    assert md5_status("blues/blues.00000.wav", digest.upper()) == "verified"
    assert md5_status("blues/blues.00000.wav", "0" * 32) == "mismatch"
    assert md5_status("blues/blues.00000.au", digest) == "unknown (au original)"
    assert md5_status("cats/cat.wav", digest) == "unknown"


def test_fault_filtered_split_counts() -> None:
    split = fault_filtered_split()
    assert len(split) == 930
    assert Counter(split.values()) == {"train": 443, "valid": 197, "test": 290}
    assert split["blues.00029"] == "train"
    test_per_genre = Counter(t.split(".")[0] for t, s in split.items() if s == "test")
    assert [test_per_genre[g] for g in GENRES] == [31, 31, 30, 29, 27, 27, 27, 30, 26, 32]


def test_track_id_of() -> None:
    assert track_id_of("Blues.00029.WAV") == "blues.00029"
    assert track_id_of("blues.0029.wav") is None
    assert track_id_of("blues.00029.mp3") is None


@pytest.mark.realdata
@pytest.mark.skipif(DEV is None, reason="set PERCMUSIC_GTZAN_DIR to a folder of GTZAN tracks")
def test_real_dev_copy_verifies(tmp_path: Path) -> None:
    assert DEV is not None
    found = discover(DEV)
    assert found.kind == "gtzan" and found.files and found.problems == []
    first = found.files[0]
    digest = hashlib.md5(first.path.read_bytes()).hexdigest()
    assert md5_status(first.rel_path, digest) == "verified"
    altered = tmp_path / "genres" / first.label / first.path.name
    altered.parent.mkdir(parents=True)
    shutil.copy(first.path, altered)
    with open(altered, "r+b") as fh:
        fh.seek(1000)
        fh.write(b"\x01\x02")
    digest = hashlib.md5(altered.read_bytes()).hexdigest()
    assert md5_status(first.rel_path, digest) == "mismatch"
