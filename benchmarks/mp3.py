"""MP3 decoding on FMA-like clips: percmusic's decode path beside librosa.load and a bare
soundfile read, in one process, plus checks that the decoded samples are the source's.

Usage: .venv/bin/python benchmarks/mp3.py [--clips 8] [--repeat 3] [--seconds 30]
Prints Markdown. FMA-like = 30 s, 44.1 kHz stereo, constant 320 kbit/s (FMA-small's
typical encoding), written here with libsndfile's MP3 (LAME) writer from a seeded
synthetic mix (drum hits, a chord, a bass line, noise), so the source samples are known.

Timed, alternating, best of `--repeat`, one thread, to mono 22050 Hz:
(a) percmusic `audio.decode` (container checks, libsndfile/mpg123 read, block downmix,
    sample checks, soxr HQ resample);
(b) `librosa.load(sr=22050)` (soundfile read, downmix, soxr_hq);
(c) a bare `soundfile.read` + `mean(axis=1)` + `soxr.resample(HQ)`, as a user writes it;
(d) (a) with the downmix percmusic had before this benchmark (`block.mean(axis=1)`);
and at the native rate (no resampling): `decode(target_sr=44100)` vs `soundfile.read`.
Correctness: each output vs the source downmixed and resampled the same way (length,
rate, Pearson r, SNR, best lag), and percmusic vs librosa sample by sample. Then two
damaged files: a truncated download, and a VBR file without its Xing/Info header.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

SR_FILE = 44100
SR = 22050


def music_like(seconds: float, seed: int) -> np.ndarray:
    """Stereo float32 (n, 2) with transients, harmony and noise, peak 0.8."""
    rng = np.random.default_rng(seed)
    n = round(seconds * SR_FILE)
    t = np.arange(n) / SR_FILE
    root = 110.0 * 2 ** (rng.integers(0, 12) / 12)
    chord = sum(np.sin(2 * np.pi * root * r * t + rng.uniform(0, 6)) for r in (2, 2.52, 3, 4))
    bass = np.sin(2 * np.pi * root * t) * (1 + 0.5 * np.sign(np.sin(2 * np.pi * 2 * t)))
    beat = np.zeros(n)
    period = int(SR_FILE * 60 / rng.uniform(80, 140))
    hit = rng.standard_normal(4000) * np.exp(-np.arange(4000) / 600)
    for start in range(0, n - 4000, period):
        beat[start : start + 4000] += hit
    noise = 0.05 * rng.standard_normal(n)
    left = 0.3 * chord + 0.5 * bass + 0.6 * beat + noise
    right = 0.3 * np.roll(chord, 200) + 0.5 * bass + 0.4 * beat + noise
    stereo = np.stack([left, right], axis=1)
    return (0.8 * stereo / np.abs(stereo).max()).astype(np.float32)


def write_mp3(path: Path, stereo: np.ndarray, mode: str = "CONSTANT") -> None:
    import soundfile as sf

    # compression_level 0.0 is LAME's highest bitrate: 320 kbit/s in CONSTANT mode.
    sf.write(
        str(path),
        stereo,
        SR_FILE,
        format="MP3",
        subtype="MPEG_LAYER_III",
        bitrate_mode=mode,
        compression_level=0.0,
    )


def reference(stereo: np.ndarray) -> np.ndarray:
    import soxr

    mono = stereo.mean(axis=1)
    return np.asarray(soxr.resample(mono, SR_FILE, SR, quality="HQ"), dtype=np.float32)


def percmusic_decode(path: Path, sr: int = SR) -> np.ndarray:
    from percmusic_cli.audio import decode

    return decode(path, target_sr=sr).samples


def percmusic_decode_mean(path: Path) -> np.ndarray:
    """percmusic's decode with the downmix it had before (numpy's mean over channels)."""
    from percmusic_cli import audio

    fast = audio._downmix
    audio._downmix = lambda block: block.mean(axis=1)  # type: ignore[assignment]
    try:
        return audio.decode(path, target_sr=SR).samples
    finally:
        audio._downmix = fast  # type: ignore[assignment]


def librosa_load(path: Path) -> np.ndarray:
    import librosa

    return np.asarray(librosa.load(str(path), sr=SR, mono=True)[0])


def bare_soundfile(path: Path) -> np.ndarray:
    import soundfile as sf
    import soxr

    data, sr = sf.read(str(path), dtype="float32", always_2d=True)
    return np.asarray(soxr.resample(data.mean(axis=1), sr, SR, quality="HQ"), dtype=np.float32)


def soundfile_native(path: Path) -> np.ndarray:
    import soundfile as sf

    data, _ = sf.read(str(path), dtype="float32", always_2d=True)
    return np.asarray(data.mean(axis=1))


def agreement(out: np.ndarray, ref: np.ndarray) -> dict[str, float]:
    """Length difference, Pearson r, SNR (dB) and the lag (samples) of the best match."""
    n = min(out.size, ref.size)
    a, b = out[:n].astype(np.float64), ref[:n].astype(np.float64)
    r = float(np.corrcoef(a, b)[0, 1])
    snr = float(10 * np.log10(np.sum(b**2) / max(np.sum((a - b) ** 2), 1e-30)))
    window = slice(n // 3, n // 3 + 8192)
    lags = range(-64, 65)
    lag = max(lags, key=lambda k: float(np.dot(a[window], np.roll(b, k)[window])))
    return {"len_diff": float(out.size - ref.size), "r": r, "snr_db": snr, "lag": float(lag)}


def timed(fn: Callable[[Path], np.ndarray], paths: list[Path]) -> float:
    start = time.perf_counter()
    for p in paths:
        fn(p)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    with tempfile.TemporaryDirectory() as tmp:
        run(Path(tmp), args.clips, args.repeat, args.seconds)


def run(tmp: Path, clips: int, repeat: int, seconds: float) -> None:
    import librosa
    import soundfile as sf

    sources = [music_like(seconds, seed) for seed in range(clips)]
    paths = [tmp / f"{i:06d}.mp3" for i in range(clips)]
    started = time.perf_counter()
    for path, stereo in zip(paths, sources, strict=True):
        write_mp3(path, stereo)
    encode_s = time.perf_counter() - started
    kbps = np.mean([p.stat().st_size * 8 / seconds / 1000 for p in paths])
    print(
        f"python {sys.version.split()[0]}, {platform.machine()}, libsndfile "
        f"{sf.__libsndfile_version__}, soundfile {sf.__version__}, librosa "
        f"{librosa.__version__}; {clips} clips x {seconds:g} s, {kbps:.0f} kbit/s, "
        f"encoded in {encode_s:.1f} s\n"
    )

    decoders: dict[str, Callable[[Path], np.ndarray]] = {
        "percmusic decode": percmusic_decode,
        "percmusic decode, block.mean downmix (before)": percmusic_decode_mean,
        "librosa.load": librosa_load,
        "soundfile + soxr": bare_soundfile,
        "percmusic decode, 44.1 kHz": lambda p: percmusic_decode(p, SR_FILE),
        "soundfile.read, 44.1 kHz": soundfile_native,
    }
    for fn in decoders.values():  # warm imports and caches
        fn(paths[0])
    best = {name: float("inf") for name in decoders}
    for rep in range(repeat):
        names = list(decoders) if rep % 2 == 0 else list(reversed(decoders))
        for name in names:
            best[name] = min(best[name], timed(decoders[name], paths))
    audio_s = clips * seconds
    base = best["librosa.load"]
    print("| decoder (to mono) | s per clip | x real time | vs librosa.load |")
    print("|---|---|---|---|")
    for name, total in best.items():
        ratio = total / (base if "44.1" not in name else best["soundfile.read, 44.1 kHz"])
        peer = "librosa.load" if "44.1" not in name else "soundfile.read"
        print(
            f"| {name} | {total / clips:.3f} | {audio_s / total:.0f} | "
            f"{ratio:.2f} x the time of {peer} |"
        )
    correctness(paths, sources)
    damaged(tmp, sources[0])


def correctness(paths: list[Path], sources: list[np.ndarray]) -> None:
    rows = {"percmusic decode": percmusic_decode, "librosa.load": librosa_load}
    print("\n| output vs source | len diff (samples) | min Pearson r | min SNR dB | lags |")
    print("|---|---|---|---|---|")
    for name, fn in rows.items():
        stats = [agreement(fn(p), reference(s)) for p, s in zip(paths, sources, strict=True)]
        print(
            f"| {name} | {sorted({s['len_diff'] for s in stats})} | "
            f"{min(s['r'] for s in stats):.5f} | {min(s['snr_db'] for s in stats):.1f} | "
            f"{sorted({s['lag'] for s in stats})} |"
        )
    diffs = [float(np.abs(percmusic_decode(p) - librosa_load(p)).max()) for p in paths]
    print(f"\npercmusic vs librosa.load, max |difference| over all samples: {max(diffs):.2e}")


def damaged(tmp: Path, stereo: np.ndarray) -> None:
    """What each path makes of a cut-off download and of a header-less VBR file."""
    from percmusic_cli.errors import DecodeError

    good = tmp / "good.mp3"
    write_mp3(good, stereo)
    cut = tmp / "cut.mp3"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    vbr = tmp / "vbr.mp3"
    write_mp3(vbr, stereo, mode="VARIABLE")
    bare = tmp / "vbr-no-xing.mp3"
    bare.write_bytes(_without_first_frame(vbr.read_bytes()))
    truth = reference(stereo).size
    print(
        f"\n| damaged file (source: {truth} samples at 22050 Hz) | percmusic decode | "
        "librosa.load |"
    )
    print("|---|---|---|")
    for label, path in [("first half of the bytes", cut), ("VBR, Xing/Info frame removed", bare)]:
        try:
            mine = f"{percmusic_decode(path).size} samples"
        except DecodeError as exc:
            mine = f"DecodeError: {exc}"
        print(f"| {label} | {mine} | {librosa_load(path).size} samples |")


def _without_first_frame(data: bytes) -> bytes:
    """LAME puts its Xing/Info header in the first frame: drop it, keep the audio frames."""
    start = data.find(b"\xff\xfb")
    nxt = data.find(b"\xff\xfb", start + 4)
    return data[nxt:]


if __name__ == "__main__":
    main()
