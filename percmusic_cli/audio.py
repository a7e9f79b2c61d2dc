"""Decoding audio files into checked mono float32 clips, and log-mel images of clips.

Arrays in, arrays out: nothing here touches the store. `decode` turns every kind of
bad file into a `DecodeError` with a one-line reason, so an ingest never stops on one
file. `logmel_reference` is the plain librosa computation of protocol.md's spectrogram
table; `LogMel` is the batched torch path that must agree with it to 1e-4.
"""

from __future__ import annotations

import contextlib
import os
import struct
import sys
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from percmusic_cli.config import SpectrogramConfig
from percmusic_cli.errors import DecodeError

if TYPE_CHECKING:
    import torch

MIN_SAMPLE_RATE = 1_000
MAX_SAMPLE_RATE = 384_000
MAX_CHANNELS = 64
MIN_SECONDS = 0.5
MAX_SECONDS = 30 * 60.0
# Bound on interleaved samples read from one file, so no header can make us allocate GBs.
MAX_TOTAL_SAMPLES = 1 << 28
_BLOCK_FRAMES = 1 << 16
_AMIN = 1e-10  # librosa.power_to_db's floor on power values


@dataclass(frozen=True)
class DecodedAudio:
    """A decoded clip: mono float32 samples at the target rate, plus facts about the file."""

    samples: np.ndarray
    orig_sr: int
    channels: int
    duration_s: float  # of the original file


@dataclass(frozen=True)
class _Header:
    """What a container declares before any sample is read."""

    sample_rate: int
    channels: int
    frames: int


def _one_line(text: str, limit: int = 200) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def decode(path: Path, target_sr: int = 22050) -> DecodedAudio:
    """Decode `path` to mono float32 at `target_sr`; any bad file raises `DecodeError`."""
    if not MIN_SAMPLE_RATE <= target_sr <= MAX_SAMPLE_RATE:
        raise DecodeError(f"target sample rate {target_sr} Hz is out of range")
    try:
        return _decode(Path(path), target_sr)
    except DecodeError:
        raise
    except MemoryError as exc:
        raise DecodeError("out of memory while decoding") from exc
    except Exception as exc:  # any library failure on a bad file becomes one line
        raise DecodeError(_one_line(f"undecodable: {type(exc).__name__}: {exc}")) from exc


def _decode(path: Path, target_sr: int) -> DecodedAudio:
    if not path.is_file():
        raise DecodeError("not a regular file" if path.exists() else "file not found")
    size = path.stat().st_size
    if size == 0:
        raise DecodeError("empty file (0 bytes)")
    _check_container(path, size)
    mono, header = _read_mono(path)
    _check_samples(mono, header)
    samples = _resample(mono, header.sample_rate, target_sr)
    return DecodedAudio(
        samples=samples,
        orig_sr=header.sample_rate,
        channels=header.channels,
        duration_s=header.frames / header.sample_rate,
    )


def _check_header(h: _Header) -> None:
    """Reject absurd declarations before reading a single sample."""
    if not MIN_SAMPLE_RATE <= h.sample_rate <= MAX_SAMPLE_RATE:
        raise DecodeError(f"absurd sample rate: {h.sample_rate} Hz")
    if not 1 <= h.channels <= MAX_CHANNELS:
        raise DecodeError(f"absurd channel count: {h.channels}")
    if h.frames <= 0:
        raise DecodeError("zero-length: no audio frames")
    seconds = h.frames / h.sample_rate
    if seconds < MIN_SECONDS:
        raise DecodeError(f"too short: {seconds:.3f} s (minimum {MIN_SECONDS} s)")
    if seconds > MAX_SECONDS:
        raise DecodeError(f"too long: {seconds / 60:.1f} min (maximum {MAX_SECONDS / 60:.0f} min)")
    if h.frames * h.channels > MAX_TOTAL_SAMPLES:
        raise DecodeError(f"too large: {h.frames * h.channels} samples declared")


def _check_samples(mono: np.ndarray, header: _Header) -> None:
    if mono.size < header.frames:
        raise DecodeError(f"truncated: {mono.size} of {header.frames} declared frames readable")
    if not np.isfinite(mono).all():
        raise DecodeError("contains NaN or Inf samples")
    if not np.any(mono):
        # A silent clip has no maximum to take dB against: its image would be meaningless.
        raise DecodeError("silent: every sample is zero")


def _resample(mono: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    if orig_sr == target_sr:
        return np.ascontiguousarray(mono, dtype=np.float32)
    import soxr

    out = soxr.resample(mono, orig_sr, target_sr, quality="HQ")
    return np.ascontiguousarray(out, dtype=np.float32)


# --- container checks: libsndfile silently clamps a truncated WAV/AU to what is there,
# --- so the declared data size is compared with the file size here.


def _check_container(path: Path, size: int) -> None:
    with open(path, "rb") as fh:
        head = fh.read(1 << 16)
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        _check_wav(head, size)
    elif head[:4] == b".snd":
        _check_au(head, size)


def _check_wav(head: bytes, size: int) -> None:
    pos, block_align = 12, 0
    while pos + 8 <= len(head):
        chunk_id, chunk_size = head[pos : pos + 4], struct.unpack("<I", head[pos + 4 : pos + 8])[0]
        body = pos + 8
        if chunk_id == b"fmt " and body + 16 <= len(head):
            _, channels, rate, _, block_align, _ = struct.unpack("<HHIIHH", head[body : body + 16])
            if rate < MIN_SAMPLE_RATE or rate > MAX_SAMPLE_RATE:
                raise DecodeError(f"absurd sample rate: {rate} Hz")
            if not 1 <= channels <= MAX_CHANNELS:
                raise DecodeError(f"absurd channel count: {channels}")
        if chunk_id == b"data":
            _check_declared(chunk_size, size - body, max(block_align, 1), unknown=0xFFFFFFFF)
            return
        pos = body + chunk_size + (chunk_size & 1)


def _check_au(head: bytes, size: int) -> None:
    if len(head) < 24:
        raise DecodeError("truncated: AU header incomplete")
    offset, data_size, encoding, rate, channels = struct.unpack(">IIIII", head[4:24])
    if rate < MIN_SAMPLE_RATE or rate > MAX_SAMPLE_RATE:
        raise DecodeError(f"absurd sample rate: {rate} Hz")
    if not 1 <= channels <= MAX_CHANNELS:
        raise DecodeError(f"absurd channel count: {channels}")
    width = {1: 1, 2: 1, 3: 2, 4: 3, 5: 4, 6: 4, 7: 8, 27: 1}.get(encoding, 1)
    _check_declared(data_size, size - offset, width * channels, unknown=0xFFFFFFFF)


def _check_declared(declared: int, available: int, block: int, unknown: int) -> None:
    """A header that promises at least one whole frame more than the file holds is truncated."""
    if declared in (0, unknown):
        return  # streaming writers leave the size open; libsndfile then reads to the end
    if declared - max(available, 0) >= block:
        raise DecodeError(
            f"truncated: header declares {declared} bytes of audio, file holds {max(available, 0)}"
        )


# --- reading


_STDERR_LOCK = threading.Lock()
_MP3_DAMAGED = "MP3 with no decodable audio frames (junk or damage after its ID3 header)"
# libsndfile's message for any file it cannot identify, whatever the file really is.
_PIPE_MESSAGE = "File does not exist or is not a regular file (possibly a pipe?)"


def _head(path: Path, n: int = 3) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(n)


def _has_id3(path: Path) -> bool:
    return _head(path) == b"ID3"


def _looks_like_mp3(path: Path) -> bool:
    """An ID3 tag or an MPEG frame sync: libsndfile hands such a file to libmpg123."""
    head = _head(path, 2)
    return _has_id3(path) or (len(head) == 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0)


@contextlib.contextmanager
def _quiet_stderr(active: bool) -> Iterator[None]:
    """Silence file descriptor 2 while libmpg123 (inside libsndfile) decodes: it prints
    its own "Note: Illegal Audio-MPEG-Header" lines there; the reason is ours to give."""
    if not active:
        yield
        return
    with _STDERR_LOCK:
        sys.stderr.flush()
        saved = os.dup(2)
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 2)
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            os.close(devnull)


def _unreadable_reason(path: Path, exc: Exception) -> str:
    text = _one_line(str(exc))
    if _PIPE_MESSAGE in text or "unknown format" in text.lower():
        if _has_id3(path):
            return _MP3_DAMAGED
        return "libsndfile does not recognise the file's format"
    return text


def _read_mono(path: Path) -> tuple[np.ndarray, _Header]:
    with _quiet_stderr(_looks_like_mp3(path)):
        return _read_mono_sndfile(path)


def _read_mono_sndfile(path: Path) -> tuple[np.ndarray, _Header]:
    import soundfile as sf

    try:
        handle = sf.SoundFile(str(path))
    except (sf.SoundFileError, RuntimeError, TypeError, ValueError) as exc:
        # libsndfile reads neither this format nor this file; audioread may (mp3 via ffmpeg).
        return _read_mono_audioread(path, reason=_unreadable_reason(path, exc))
    with handle as f:
        header = _Header(int(f.samplerate), int(f.channels), int(f.frames))
        _check_header(header)
        if f.format == "MP3":
            header = _mp3_header(path, header)
        if header.channels == 1:
            return f.read(header.frames, dtype="float32"), header
        mono = np.empty(header.frames, dtype=np.float32)
        pos = 0
        while pos < header.frames:
            # Block-wise downmix keeps memory at one mono copy, whatever the channel count.
            block = f.read(min(_BLOCK_FRAMES, header.frames - pos), dtype="float32", always_2d=True)
            if block.shape[0] == 0:
                break
            mono[pos : pos + block.shape[0]] = _downmix(block)
            pos += block.shape[0]
        return mono[:pos], header


def _mp3_header(path: Path, header: _Header) -> _Header:
    """libsndfile estimates a header-less MP3's length from its first frame and stops
    there. Variable bitrate: refuse the file rather than keep a silently shortened clip.
    Constant bitrate: the estimate can overshoot by a fraction of a frame; use the count."""
    from percmusic_cli.mp3 import unlisted_length

    counted = unlisted_length(path)
    if counted is None:
        return header
    if counted - header.frames > 2 * 1152:
        rate = header.sample_rate
        raise DecodeError(
            f"MP3 without a length (Xing/Info) header: the decoder would stop at "
            f"{header.frames / rate:.1f} s of {counted / rate:.1f} s; rewrite it with one "
            "(e.g. ffmpeg -i IN.mp3 -c copy OUT.mp3)"
        )
    return _Header(header.sample_rate, header.channels, min(header.frames, counted))


def _downmix(block: np.ndarray) -> np.ndarray:
    """The channel mean of a (frames, channels) float32 block, bit-identical to
    `block.mean(axis=1)` for up to 8 channels (the same float32 adds, in order) but about
    18x faster: numpy reduces a short last axis row by row (benchmarks/mp3.py)."""
    out = block[:, 0].copy()
    for channel in range(1, block.shape[1]):
        out += block[:, channel]
    out /= np.float32(block.shape[1])
    return out


def _read_mono_audioread(path: Path, reason: str) -> tuple[np.ndarray, _Header]:
    import audioread

    try:
        with warnings.catch_warnings():
            # audioread's stdlib backend imports aifc/audioop/sunau, deprecated in 3.11.
            warnings.simplefilter("ignore", DeprecationWarning)
            f = audioread.audio_open(str(path))
    except Exception as exc:
        if reason == _MP3_DAMAGED:
            raise DecodeError(reason) from exc
        raise DecodeError(
            f"not a recognised audio format ({reason or type(exc).__name__})"
        ) from exc
    with f:
        frames = round(float(f.duration) * int(f.samplerate)) if f.duration else 0
        header = _Header(int(f.samplerate), int(f.channels), frames)
        _check_header(header)
        limit = (frames + header.sample_rate) * header.channels  # tolerate a short overrun
        parts: list[np.ndarray] = []
        total = 0
        for buf in f:
            parts.append(np.frombuffer(buf, dtype="<i2"))
            total += parts[-1].size
            if total > limit:
                raise DecodeError("decoded length exceeds the declared duration")
    interleaved = np.concatenate(parts) if parts else np.zeros(0, dtype="<i2")
    usable = interleaved.size - interleaved.size % header.channels
    mono = interleaved[:usable].reshape(-1, header.channels).astype(np.float32).mean(axis=1)
    mono /= 32768.0
    # audioread's duration is an estimate; trust what was decoded when close to it.
    header = _Header(header.sample_rate, header.channels, min(frames, mono.size))
    return mono, header


# --- log-mel images


def logmel_reference(samples: np.ndarray, cfg: SpectrogramConfig) -> np.ndarray:
    """librosa's log-mel of one clip scaled to [0, 1]: float32 (n_mels, frames), no crop/pad."""
    import librosa

    mel = librosa.feature.melspectrogram(
        y=np.asarray(samples, dtype=np.float32),
        sr=cfg.sample_rate,
        n_fft=cfg.n_fft,
        hop_length=cfg.hop_length,
        window="hann",
        center=True,
        power=cfg.power,
        n_mels=cfg.n_mels,
        fmin=cfg.fmin,
        fmax=cfg.fmax,
    )
    db = librosa.power_to_db(mel, ref=np.max, top_db=cfg.top_db)
    return ((db + cfg.top_db) / cfg.top_db).astype(np.float32)


def fit_frames(image: np.ndarray, n_frames: int) -> tuple[np.ndarray, bool]:
    """Crop to `n_frames` or pad with 0 (silence); the flag says whether padding happened."""
    have = image.shape[-1]
    if have >= n_frames:
        return np.ascontiguousarray(image[..., :n_frames]), False
    out = np.zeros((*image.shape[:-1], n_frames), dtype=image.dtype)
    out[..., :have] = image
    return out, True


class LogMel:
    """Batched torch log-mel: one STFT + filterbank product per batch of clips.

    Clips of different lengths are zero-padded to the longest in their batch. With
    centred frames and constant (zero) edge padding, frame t of a clip sees the same
    samples whether the zeros after its end come from the STFT's padding or the batch's,
    so each clip keeps exactly its own `len // hop + 1` frames; its dB reference (the
    clip's maximum) is taken over those frames only, before the crop or pad to n_frames.
    """

    def __init__(
        self, cfg: SpectrogramConfig, device: str = "cpu", batch_size: int | None = None
    ) -> None:
        import torch

        from percmusic_cli.melbank import mel_filterbank

        self.cfg = cfg
        self.device = torch.device(device)
        # One clip at a time is fastest on a CPU (measured: batches of 8 took twice as long
        # per clip, the STFT's buffers falling out of cache); a GPU wants batches.
        if batch_size is None:
            batch_size = 1 if self.device.type == "cpu" else 16
        self.batch_size = max(1, batch_size)
        fb = mel_filterbank(cfg.sample_rate, cfg.n_fft, cfg.n_mels, cfg.fmin, cfg.fmax)
        # Bands with no FFT bin inside (too many bands for n_fft): their row of every image
        # is empty. librosa's filterbank warned; the features step says so in one line.
        self.empty_bands = int(np.count_nonzero(fb.max(axis=1) <= 0))
        self._fb = torch.from_numpy(fb).to(self.device)
        # librosa's "hann" is scipy's periodic (fftbins=True) window.
        self._window = torch.hann_window(cfg.n_fft, periodic=True, device=self.device)

    def __call__(self, clips: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        from concurrent.futures import ThreadPoolExecutor

        from percmusic_cli.devices import one_thread_per_op

        count = len(clips)
        images = np.zeros((count, self.cfg.n_mels, self.cfg.n_frames), dtype=np.float32)
        padded = np.zeros(count, dtype=bool)
        # Sorting by length keeps the zero padding inside each batch small.
        order = sorted(range(count), key=lambda i: len(clips[i]))
        batches = [order[s : s + self.batch_size] for s in range(0, count, self.batch_size)]
        # Batches side by side, one thread per FFT and product: the same bits every run.
        with one_thread_per_op(self.device.type) as workers, ThreadPoolExecutor(workers) as pool:
            done = pool.map(lambda chunk: self._batch([clips[i] for i in chunk]), batches)
            for chunk, result in zip(batches, done, strict=True):
                for i, image in zip(chunk, result, strict=True):
                    images[i], padded[i] = fit_frames(image, self.cfg.n_frames)
        return images, padded

    def _batch(self, clips: list[np.ndarray]) -> list[np.ndarray]:
        import torch

        lengths = [len(c) for c in clips]
        if min(lengths) == 0:
            raise DecodeError("empty clip: no samples to transform")
        x = torch.zeros(len(clips), max(lengths), dtype=torch.float32)
        for row, clip in enumerate(clips):
            x[row, : len(clip)] = torch.from_numpy(np.asarray(clip, dtype=np.float32))
        with torch.no_grad():
            mel = self._mel_power(x.to(self.device))
            hop = self.cfg.hop_length
            return [self._scale(mel[row, :, : n // hop + 1]) for row, n in enumerate(lengths)]

    def _mel_power(self, x: torch.Tensor) -> torch.Tensor:
        import torch

        spec = torch.stft(
            x,
            n_fft=self.cfg.n_fft,
            hop_length=self.cfg.hop_length,
            window=self._window,
            center=True,
            pad_mode="constant",
            return_complex=True,
        )
        if self.cfg.power == 2.0:
            # |z|^2 without the sqrt; the strided view_as_real reduction was 5x slower.
            power = spec.real.square() + spec.imag.square()
        else:
            power = spec.abs().pow(self.cfg.power)
        return torch.matmul(self._fb, power)

    def _scale(self, mel: torch.Tensor) -> np.ndarray:
        """power_to_db(ref=max, top_db) then (dB + top_db) / top_db, as librosa does it."""
        import torch

        top_db = self.cfg.top_db
        db = 10.0 * torch.log10(torch.clamp(mel, min=_AMIN))
        db = db - 10.0 * torch.log10(torch.clamp(mel.max(), min=_AMIN))
        db = torch.maximum(db, db.max() - top_db)
        return ((db + top_db) / top_db).cpu().numpy().astype(np.float32)
