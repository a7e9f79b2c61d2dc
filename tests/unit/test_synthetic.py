from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from synthetic_plain import whole_notes

from percmusic_cli.audio import decode
from percmusic_cli.datasets import synthetic
from percmusic_cli.datasets.folder import discover
from percmusic_cli.datasets.synthetic import SYNTHETIC_LABELS, generate_clip, write_dataset
from percmusic_cli.progress import NullReporter


def test_ten_labels() -> None:
    assert len(SYNTHETIC_LABELS) == 10 and len(set(SYNTHETIC_LABELS)) == 10


def test_clip_is_deterministic_and_varies() -> None:
    a = generate_clip("techno", 0, 2.0, 22050, seed=0)
    assert a.dtype == np.float32 and a.shape == (44100,)
    assert 0.1 < np.abs(a).max() <= 1.0 and np.isfinite(a).all()
    np.testing.assert_array_equal(a, generate_clip("techno", 0, 2.0, 22050, seed=0))
    assert not np.allclose(a, generate_clip("techno", 1, 2.0, 22050, seed=0))
    assert not np.allclose(a, generate_clip("techno", 0, 2.0, 22050, seed=1))


def test_classes_differ_in_spectrum() -> None:
    # Average spectra: the two clips of one class are closer than clips of different
    # classes, for a class pair that differs in timbre and register.
    def spectrum(label: str, index: int) -> np.ndarray:
        clip = generate_clip(label, index, 3.0, 22050, seed=0)
        mag = np.abs(np.fft.rfft(clip.reshape(-1, 1470), axis=1)).mean(axis=0)
        return np.log(mag + 1e-6)

    drone = [spectrum("drone", i) for i in range(2)]
    chip = [spectrum("chiptune", i) for i in range(2)]
    within = np.mean((drone[0] - drone[1]) ** 2) + np.mean((chip[0] - chip[1]) ** 2)
    across = np.mean((drone[0] - chip[0]) ** 2) + np.mean((drone[1] - chip[1]) ** 2)
    assert within < across


def test_unknown_label() -> None:
    with pytest.raises(ValueError, match="unknown synthetic label"):
        generate_clip("polka", 0, 1.0, 22050, seed=0)


def test_write_dataset_is_atomic_idempotent_and_discoverable(tmp_path: Path) -> None:
    paths = write_dataset(tmp_path, clips_per_class=2, seconds=1.0, seed=0, reporter=NullReporter())
    assert len(paths) == 20 and all(p.is_file() for p in paths)
    info = sf.info(str(paths[0]))
    assert (info.samplerate, info.channels, info.subtype, info.frames) == (
        22050,
        1,
        "PCM_16",
        22050,
    )
    assert paths[0] == tmp_path / SYNTHETIC_LABELS[0] / f"{SYNTHETIC_LABELS[0]}.00000.wav"
    found = discover(tmp_path)
    assert found.kind == "folder" and len(found.files) == 20 and found.problems == []
    assert found.labels == sorted(SYNTHETIC_LABELS)
    assert decode(paths[3]).samples.size == 22050
    assert not list(tmp_path.rglob("*partial*"))

    os.utime(paths[0], (1, 1))
    assert write_dataset(tmp_path, clips_per_class=2, seconds=1.0, seed=0) == paths
    assert paths[0].stat().st_mtime == 1  # kept, not regenerated

    paths[1].write_bytes(b"broken")  # a damaged clip is rewritten
    write_dataset(tmp_path, clips_per_class=2, seconds=1.0, seed=0)
    assert sf.info(str(paths[1])).frames == 22050

    before = sf.read(str(paths[0]))[0]
    write_dataset(tmp_path, clips_per_class=2, seconds=1.0, seed=7)  # other seed: regenerated
    assert not np.allclose(before, sf.read(str(paths[0]))[0])


def test_written_clip_matches_generator(tmp_path: Path) -> None:
    (path,) = [
        p for p in write_dataset(tmp_path, clips_per_class=1, seconds=1.0, seed=3)
        if p.parent.name == "waltz"
    ]  # fmt: skip
    written = sf.read(str(path), dtype="float32")[0]
    expected = generate_clip("waltz", 0, 1.0, 22050, seed=3)
    np.testing.assert_allclose(written, expected, atol=1 / 32767 + 1e-6)


def test_clips_made_in_threads_are_the_bytes_made_one_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    threaded = synthetic.write_dataset(tmp_path / "threads", clips_per_class=3, seconds=0.5)
    monkeypatch.setattr(synthetic, "_MAX_WORKERS", 1)
    single = synthetic.write_dataset(tmp_path / "one", clips_per_class=3, seconds=0.5)
    assert len(threaded) == len(single) == 3 * len(synthetic.SYNTHETIC_LABELS)
    for a, b in zip(threaded, single, strict=True):
        assert a.relative_to(tmp_path / "threads") == b.relative_to(tmp_path / "one")
        assert a.read_bytes() == b.read_bytes()


def test_notes_made_in_part_and_once_are_the_whole_notes_cut() -> None:
    """The fast path (only the heard part of a note; a repeated bass or arpeggio note made
    once per clip) against the plain definition (`synthetic_plain.whole_notes`)."""
    fast = [generate_clip(lab, i, 1.5, 22050, seed=5) for lab in SYNTHETIC_LABELS for i in (0, 1)]
    with whole_notes() as cuts:
        plain = [generate_clip(lab, i, 1.5, 22050, 5) for lab in SYNTHETIC_LABELS for i in (0, 1)]
    assert cuts == {"start", "end"}  # the clips cut notes at both ends
    for a, b in zip(fast, plain, strict=True):
        np.testing.assert_array_equal(a, b)
