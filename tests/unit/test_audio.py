from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from trees import BROKEN_KINDS, SR, real_gtzan_dir, tone_clip, write_broken, write_wav

from percmusic_cli.audio import LogMel, decode, fit_frames, logmel_reference
from percmusic_cli.config import SpectrogramConfig
from percmusic_cli.errors import DecodeError

DEV = real_gtzan_dir()
CFG = SpectrogramConfig(n_frames=100)


def test_decode_mono_at_target_rate(tmp_path: Path) -> None:
    clip = tone_clip(440.0)
    out = decode(write_wav(tmp_path / "a.wav", clip, SR))
    assert out.samples.dtype == np.float32
    assert out.orig_sr == SR and out.channels == 1
    assert out.duration_s == pytest.approx(clip.size / SR)
    np.testing.assert_allclose(out.samples, clip, atol=1 / 32768 + 1e-6)


def test_decode_downmixes_by_mean_and_resamples(tmp_path: Path) -> None:
    import soxr

    left = tone_clip(440.0, sr=44100)
    stereo = np.stack([left, np.zeros_like(left)], axis=1)
    out = decode(write_wav(tmp_path / "s.wav", stereo, 44100, subtype="FLOAT"))
    assert out.orig_sr == 44100 and out.channels == 2
    expected = soxr.resample(left / 2, 44100, SR, quality="HQ")
    assert out.samples.shape == expected.shape
    np.testing.assert_allclose(out.samples, expected, atol=1e-5)


@pytest.mark.parametrize("kind", sorted(BROKEN_KINDS))
def test_broken_files_raise_one_line_decode_error(tmp_path: Path, kind: str) -> None:
    path = write_broken(tmp_path / f"{kind}.wav", kind)
    with pytest.raises(DecodeError) as info:
        decode(path)
    message = str(info.value)
    assert BROKEN_KINDS[kind] in message
    assert "\n" not in message and len(message) <= 200


def test_header_declaring_gigabytes_is_truncated_not_allocated(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "h.wav", tone_clip(440.0), SR)
    raw = bytearray(path.read_bytes())
    at = raw.find(b"data")
    raw[at + 4 : at + 8] = struct.pack("<I", 0xFFFFFF00)
    path.write_bytes(bytes(raw))
    with pytest.raises(DecodeError, match="truncated"):
        decode(path)


def test_too_long_is_rejected_from_the_header(tmp_path: Path) -> None:
    # 30 min + 2 s at 1 kHz, 8-bit: a small file whose duration is over the limit.
    samples = np.full(1000 * (1800 + 2), 0.25, dtype=np.float32)
    path = write_wav(tmp_path / "long.wav", samples, 1000, subtype="PCM_U8")
    with pytest.raises(DecodeError, match="too long"):
        decode(path)


def test_silent_and_non_audio_and_missing(tmp_path: Path) -> None:
    with pytest.raises(DecodeError, match="silent"):
        decode(write_wav(tmp_path / "z.wav", np.zeros(SR), SR))
    (tmp_path / "n.wav").write_text("hello, I am text pretending to be audio\n" * 10)
    with pytest.raises(DecodeError, match="not a recognised audio format"):
        decode(tmp_path / "n.wav")
    with pytest.raises(DecodeError, match="not found"):
        decode(tmp_path / "missing.wav")


def test_truncated_au(tmp_path: Path) -> None:
    path = tmp_path / "t.au"
    sf.write(str(path), tone_clip(440.0), SR, format="AU", subtype="PCM_16")
    good = decode(path)
    assert good.samples.size == tone_clip(440.0).size
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(DecodeError, match="truncated"):
        decode(path)


def test_mp3_decodes_when_libsndfile_supports_it(tmp_path: Path) -> None:
    if "MP3" not in sf.available_formats():
        pytest.skip("libsndfile without MP3")
    path = tmp_path / "a.mp3"
    sf.write(str(path), tone_clip(440.0, seconds=2.0), SR, format="MP3")
    out = decode(path)
    assert out.duration_s == pytest.approx(2.0, abs=0.1)


def test_logmel_reference_range_and_shape() -> None:
    image = logmel_reference(tone_clip(440.0), CFG)
    assert image.dtype == np.float32
    assert image.shape == (128, CFG.frames_for(1.5))
    assert image.max() == pytest.approx(1.0) and image.min() >= 0.0


def test_fit_frames_crops_and_pads_with_silence() -> None:
    image = np.ones((4, 10), dtype=np.float32)
    cropped, was_padded = fit_frames(image, 6)
    assert cropped.shape == (4, 6) and not was_padded
    padded, was_padded = fit_frames(image, 13)
    assert padded.shape == (4, 13) and was_padded
    assert padded[:, 10:].max() == 0.0 and padded[:, :10].min() == 1.0


def _reference(clips: list[np.ndarray], cfg: SpectrogramConfig) -> tuple[np.ndarray, np.ndarray]:
    pairs = [fit_frames(logmel_reference(c, cfg), cfg.n_frames) for c in clips]
    return np.stack([p[0] for p in pairs]), np.array([p[1] for p in pairs])


def test_fast_path_matches_librosa_on_mixed_lengths() -> None:
    rng = np.random.default_rng(0)
    clips = [
        (0.1 * rng.standard_normal(SR * 2)).astype(np.float32),  # 87 frames: padded to 100
        tone_clip(440.0, seconds=3.0),  # 130 frames: cropped
        tone_clip(97.0, seconds=1.0, seed=3) * 1e-3,  # quiet and short
        (0.1 * rng.standard_normal(SR * 3 + 17)).astype(np.float32),
    ]
    images, padded = LogMel(CFG, batch_size=3)(clips)
    expected, expected_padded = _reference(clips, CFG)
    assert images.shape == (4, 128, 100) and images.dtype == np.float32
    np.testing.assert_array_equal(padded, expected_padded)
    np.testing.assert_array_equal(padded, [True, False, True, False])
    assert np.abs(images - expected).max() < 1e-4


def test_fast_path_reference_is_each_clips_own_max() -> None:
    # Padding must not change the dB reference: a quiet clip still reaches 1.0.
    images, _ = LogMel(CFG)([tone_clip(440.0) * 1e-3, tone_clip(440.0)])
    assert images[0].max() == pytest.approx(1.0)
    assert np.abs(images[0] - images[1]).max() < 1e-3


@pytest.mark.realdata
@pytest.mark.skipif(DEV is None, reason="set PERCMUSIC_GTZAN_DIR to a folder of GTZAN tracks")
def test_fast_path_matches_librosa_on_a_real_track() -> None:
    assert DEV is not None
    track = next(iter(sorted(DEV.rglob("blues.00000.wav"))), None)
    if track is None:
        pytest.skip(f"no blues.00000.wav under {DEV}")
    cfg = SpectrogramConfig()
    clip = decode(track).samples
    images, padded = LogMel(cfg)([clip])
    expected, expected_padded = _reference([clip], cfg)
    assert padded[0] == expected_padded[0]
    assert np.abs(images - expected).max() < 1e-4
