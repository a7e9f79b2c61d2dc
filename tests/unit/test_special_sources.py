"""A source replaced after ingest by a FIFO or a link to /dev/zero is named "not a regular
file" by `features` and `check --sources`, never opened (issue 20: both hung)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from trees import SR, tone_clip, write_wav

from percmusic_cli import api
from percmusic_cli.hashing import file_digest
from percmusic_cli.store import Store


def _replace(path: Path, how: str) -> None:
    path.unlink()
    if how == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")


def _within(seconds: float, work: object) -> object:
    """`work()` in a thread, failing the test (not hanging it) if it does not return."""
    box: list[object] = []
    thread = threading.Thread(target=lambda: box.append(work()), daemon=True)  # type: ignore[operator]
    thread.start()
    thread.join(seconds)
    assert box, f"still running after {seconds} s: it blocked on a special file"
    return box[0]


@pytest.mark.parametrize("how", ["fifo", "devzero"])
def test_file_digest_refuses_a_special_file_without_blocking(tmp_path: Path, how: str) -> None:
    target = tmp_path / "x.wav"
    target.write_bytes(b"RIFF")
    _replace(target, how)

    def digest() -> str:
        try:
            return file_digest(target, "md5")
        except OSError as exc:
            return str(exc.strerror)

    assert _within(10, digest) == "not a regular file"


def test_features_and_check_sources_name_special_files(tmp_path: Path) -> None:
    for label in "ab":
        for i in range(4):
            clip = tone_clip(200.0 + 100 * i + (label == "b") * 50, seconds=0.5, seed=i)
            write_wav(tmp_path / "d" / label / f"{label}{i}.wav", clip, SR)
    store = Store(tmp_path / "store")
    api.ingest(store, tmp_path / "d")
    _replace(tmp_path / "d" / "a" / "a0.wav", "fifo")
    _replace(tmp_path / "d" / "b" / "b0.wav", "devzero")
    report = _within(60, lambda: api.check(store, sources=True))
    assert isinstance(report, dict)
    lines = [str(p) for p in report["problems"] if "not a regular file" in str(p)]
    assert len(lines) == 2
    _within(120, lambda: api.features(store))
    errors = api.status(store, with_errors=True)["datasets"][0]["errors"]
    assert sum("not a regular file" in str(e) for e in errors) == 2
