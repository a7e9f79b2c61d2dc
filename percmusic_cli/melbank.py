"""The mel filterbank of protocol.md's spectrogram: Slaney's mel scale (linear to 1 kHz,
logarithmic above) with each triangle scaled to unit area, as `librosa.filters.mel` makes it
by default. Written with numpy alone because importing `librosa.filters` loads scipy.signal,
1.1-1.6 s of every `features` process, for a matrix made in a millisecond.
tests/unit/test_melbank.py checks it equals librosa's bit for bit over many settings, so the
features it gives are the ones librosa's filterbank gave."""

from __future__ import annotations

import numpy as np

_HZ_PER_MEL = 200.0 / 3  # below the break
_BREAK_HZ = 1000.0
_BREAK_MEL = _BREAK_HZ / _HZ_PER_MEL
_LOG_STEP = float(np.log(6.4)) / 27.0  # mels are this far apart in log Hz above the break


def hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney mels of frequencies in Hz (1-D)."""
    mel = hz / _HZ_PER_MEL
    high = hz >= _BREAK_HZ
    mel[high] = _BREAK_MEL + np.log(hz[high] / _BREAK_HZ) / _LOG_STEP
    return mel


def mel_to_hz(mel: np.ndarray) -> np.ndarray:
    """Frequencies in Hz of Slaney mels (1-D): the inverse of `hz_to_mel`."""
    hz = _HZ_PER_MEL * mel
    high = mel >= _BREAK_MEL
    hz[high] = _BREAK_HZ * np.exp(_LOG_STEP * (mel[high] - _BREAK_MEL))
    return hz


def mel_filterbank(sr: int, n_fft: int, n_mels: int, fmin: float, fmax: float | None) -> np.ndarray:
    """(n_mels, 1 + n_fft // 2) float32 weights from the FFT bins to mel bands: triangles
    between n_mels + 2 edges evenly spaced in mels from fmin to fmax (None: Nyquist)."""
    top = float(sr) / 2 if fmax is None else fmax
    ends = hz_to_mel(np.array([fmin, top], dtype=np.float64))
    edges = mel_to_hz(np.linspace(ends[0], ends[1], n_mels + 2))
    bins = np.fft.rfftfreq(n=n_fft, d=1.0 / sr)
    width = np.diff(edges)
    offset = np.subtract.outer(edges, bins)  # edge minus bin frequency
    rising = -offset[:-2] / width[:-1, np.newaxis]
    falling = offset[2:] / width[1:, np.newaxis]
    weights = np.maximum(0, np.minimum(rising, falling)).astype(np.float32)
    # Unit area: each triangle divided by half its base (in Hz), in float64 as librosa does.
    weights *= (2.0 / (edges[2:] - edges[:-2]))[:, np.newaxis]
    return weights
