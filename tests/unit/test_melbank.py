"""percmusic_cli.melbank against librosa.filters.mel, which it stands in for: bit for bit, so
features made with it are the features librosa's filterbank gave."""

from __future__ import annotations

import itertools
import warnings

import librosa
import numpy as np
import pytest
from clitools import Cli
from hypothesis import given, settings
from hypothesis import strategies as st
from trees import TinyTree

from percmusic_cli.audio import LogMel
from percmusic_cli.config import SpectrogramConfig
from percmusic_cli.melbank import hz_to_mel, mel_filterbank, mel_to_hz


def _both(
    sr: int, n_fft: int, n_mels: int, fmin: float = 0.0, fmax: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Our filterbank and librosa's for the same settings."""
    with warnings.catch_warnings():
        # narrow settings leave empty or NaN triangles, with warnings (numpy's, librosa's
        # "Empty filters"): alike in both
        warnings.simplefilter("ignore")
        ours = mel_filterbank(sr, n_fft, n_mels, fmin, fmax)
        theirs = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax)
    return ours, theirs


def _same(sr: int, n_fft: int, n_mels: int, fmin: float, fmax: float | None) -> None:
    ours, theirs = _both(sr, n_fft, n_mels, fmin, fmax)
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


def test_too_many_bands_for_the_fft_are_counted_and_reported(
    cli: Cli, tiny_folder_tree: TinyTree
) -> None:
    """librosa warned of empty bands; the features step says how many, in one line."""
    cfg = SpectrogramConfig(n_mels=1024)
    _, theirs = _both(cfg.sample_rate, cfg.n_fft, 1024)
    empty = int(np.count_nonzero(theirs.max(axis=1) <= 0))
    assert empty > 0 and LogMel(cfg).empty_bands == empty
    assert LogMel(SpectrogramConfig()).empty_bands == 0
    assert cli("ingest", str(tiny_folder_tree.root)).exit_code == 0
    result = cli("features", "--n-mels", "1024")
    assert result.exit_code == 0, result.stderr
    (line,) = [ln for ln in result.stderr.splitlines() if "mel bands" in ln]
    assert line == f"warning: {empty} of 1024 mel bands are empty at n_fft 2048; use fewer --n-mels"
    assert "warning" not in cli("features").stderr  # 128 bands: every band holds a bin
