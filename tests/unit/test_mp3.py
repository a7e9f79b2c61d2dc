"""MP3 lengths: a header-less VBR file is refused instead of silently shortened."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from trees import tone_clip

from percmusic_cli.audio import decode
from percmusic_cli.errors import DecodeError
from percmusic_cli.mp3 import unlisted_length

pytestmark = pytest.mark.skipif(
    "MP3" not in sf.available_formats(), reason="libsndfile here cannot write MP3"
)
SECONDS = 6.0
RATE = 44100


def _mp3(path: Path, mode: str) -> Path:
    # A loud start and a quiet end: VBR frames then differ in size, so a length estimated
    # from the first frame's bitrate is wrong.
    clip = tone_clip(300.0, seconds=SECONDS, sr=RATE, seed=3)
    clip[: RATE // 2] += 0.5 * np.random.default_rng(0).standard_normal(RATE // 2).astype("f4")
    # compression_level 0 = 320 kbit/s; without it libsndfile's CONSTANT mode still varies.
    level = 0.0 if mode == "CONSTANT" else 0.5
    sf.write(
        str(path),
        np.clip(clip, -1, 1),
        RATE,
        format="MP3",
        bitrate_mode=mode,
        compression_level=level,
    )
    return path


def _without_length_header(src: Path, dst: Path) -> Path:
    data = src.read_bytes()
    first = data.find(b"\xff\xfb")
    assert any(tag in data[first : first + 200] for tag in (b"Xing", b"Info"))
    dst.write_bytes(data[data.find(b"\xff\xfb", first + 4) :])  # drop the header frame
    return dst


def test_a_file_with_a_length_header_is_trusted_and_decodes_whole(tmp_path: Path) -> None:
    path = _mp3(tmp_path / "vbr.mp3", "VARIABLE")
    assert unlisted_length(path) is None
    assert decode(path, target_sr=RATE).samples.size == round(SECONDS * RATE)


def test_header_less_vbr_is_counted_and_refused(tmp_path: Path) -> None:
    bare = _without_length_header(_mp3(tmp_path / "vbr.mp3", "VARIABLE"), tmp_path / "bare.mp3")
    counted = unlisted_length(bare)
    assert counted is not None
    # Every frame holds 1152 samples, LAME's delay and padding included: a little more.
    assert 0 <= counted - SECONDS * RATE < 3 * 1152
    assert sf.info(str(bare)).frames < counted - 2 * 1152  # what libsndfile would read
    with pytest.raises(DecodeError, match="without a length"):
        decode(bare)


def test_header_less_constant_bitrate_still_decodes(tmp_path: Path) -> None:
    bare = _without_length_header(_mp3(tmp_path / "cbr.mp3", "CONSTANT"), tmp_path / "bare.mp3")
    audio = decode(bare, target_sr=RATE)
    assert abs(audio.samples.size - SECONDS * RATE) < 3 * 1152


def _with_id3(src: Path, dst: Path) -> Path:
    """An ID3v2.3 tag in front, its body full of sync-like 0xFF bytes (cover art does that)."""
    body = b"\xff\xfb\x90\x00" * 2500
    size = bytes((len(body) >> s) & 0x7F for s in (21, 14, 7, 0))
    dst.write_bytes(b"ID3\x03\x00\x00" + size + body + src.read_bytes())
    return dst


def test_an_id3_tag_in_front_is_skipped(tmp_path: Path) -> None:
    vbr = _mp3(tmp_path / "vbr.mp3", "VARIABLE")
    tagged = _with_id3(vbr, tmp_path / "tagged.mp3")
    assert unlisted_length(tagged) is None
    assert decode(tagged, target_sr=RATE).samples.size == round(SECONDS * RATE)
    bare = _with_id3(_without_length_header(vbr, tmp_path / "bare.mp3"), tmp_path / "b2.mp3")
    assert unlisted_length(bare) == unlisted_length(tmp_path / "bare.mp3")
