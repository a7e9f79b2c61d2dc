"""percmusic_cli.melbank against librosa.filters.mel, which it stands in for: bit for bit, so
features made with it are the features librosa's filterbank gave."""

from __future__ import annotations

import itertools
import warnings

import librosa
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from percmusic_cli.config import SpectrogramConfig
from percmusic_cli.melbank import hz_to_mel, mel_filterbank, mel_to_hz


def _same(sr: int, n_fft: int, n_mels: int, fmin: float, fmax: float | None) -> None:
    with warnings.catch_warnings():
        # narrow settings leave empty or NaN triangles, with numpy's warnings: alike in both
        warnings.simplefilter("ignore")
        ours = mel_filterbank(sr, n_fft, n_mels, fmin, fmax)
        theirs = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax)
    assert ours.dtype == theirs.dtype == np.float32 and ours.shape == theirs.shape
    np.testing.assert_array_equal(ours, theirs)  # NaNs in the same places count as equal


def test_the_default_spectrogram_settings() -> None:
    cfg = SpectrogramConfig()
    _same(cfg.sample_rate, cfg.n_fft, cfg.n_mels, cfg.fmin, cfg.fmax)


@pytest.mark.parametrize(("sr", "n_fft"), [(8000, 256), (22050, 1024), (44100, 4096)])
def test_a_grid_of_bands_and_edges(sr: int, n_fft: int) -> None:
    # fmin and fmax on both sides of the scale's 1 kHz break, and fmax at Nyquist (None)
    for n_mels, fmin, fmax in itertools.product((8, 40, 128), (0.0, 300.0, 1500.0), (None, 0.9)):
        _same(sr, n_fft, n_mels, fmin, None if fmax is None else fmax * sr / 2)


@settings(max_examples=60, deadline=None)
@given(
    sr=st.integers(1000, 96_000),
    n_fft=st.integers(16, 8192),
    n_mels=st.integers(8, 256),
    lo=st.floats(0.0, 1.0),
    hi=st.floats(0.0, 1.0),
)
def test_random_settings(sr: int, n_fft: int, n_mels: int, lo: float, hi: float) -> None:
    fmin, fmax = sorted((lo * sr / 2, hi * sr / 2))
    _same(sr, n_fft, n_mels, fmin, fmax)


def test_the_mel_scale_is_librosas_and_inverts() -> None:
    hz = np.concatenate([np.linspace(0.0, 999.0, 50), [1000.0], np.geomspace(1001.0, 48_000.0, 50)])
    np.testing.assert_array_equal(hz_to_mel(hz.copy()), librosa.hz_to_mel(hz, htk=False))
    np.testing.assert_allclose(mel_to_hz(hz_to_mel(hz.copy())), hz, rtol=1e-12)
