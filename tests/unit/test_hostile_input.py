"""Hostile and broken input: archives that try to escape, audio files that lie, odd
names, files that vanish, pickles where arrays or weights should be, a full disk and a
read-only store. Each gives a one-line reason naming the file, the batch goes on, and
the store is left as it was."""

from __future__ import annotations

import errno
import io
import os
import pickle
import struct
import tarfile
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from trees import (
    BROKEN_KINDS,
    SR,
    TinyTree,
    _riff,
    pcm16_header_fmt,
    tone_clip,
    write_broken,
    write_wav,
)

from percmusic_cli import api
from percmusic_cli.audio import decode
from percmusic_cli.errors import ArrayIntegrityError, DecodeError, StoreError
from percmusic_cli.steps.check import check_store
from percmusic_cli.store import Store
from percmusic_cli.store import arrays as a
from percmusic_cli.store import tables as t

MB = 1 << 20


class _Boom:
    """Unpickling this would create a marker file: proof that nothing was unpickled."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.mkdir, (str(self.marker),))


def _evil_pickle(marker: Path) -> bytes:
    return pickle.dumps(_Boom(marker))


def _failures(store: Store, dataset: str) -> dict[str, str]:
    with store.connect(read_only=True) as con:
        return {
            Path(r.path).name: r.error or "" for r in t.tracks(con, dataset) if r.status != "ok"
        }


# ---------------------------------------------------------------- archives


def _hostile_tar(path: Path, outside: Path) -> Path:
    write_wav(path.parent / "tmp-good.wav", tone_clip(440.0), SR)
    data = (path.parent / "tmp-good.wav").read_bytes()
    with tarfile.open(path, "w:gz") as tar:

        def add(
            name: str,
            kind: bytes = tarfile.REGTYPE,
            payload: bytes = b"",
            link: str = "",
            size: int | None = None,
        ) -> None:
            info = tarfile.TarInfo(name)
            info.type, info.linkname = kind, link
            info.size = len(payload) if size is None else size
            tar.addfile(info, io.BytesIO(payload) if payload else None)

        for i in range(2):
            add(f"genres/blues/clip{i}.wav", payload=data)
            add(f"genres/rock/clip{i}.wav", payload=data)
        add("../escape.wav", payload=data)
        add(str(outside / "abs.wav"), payload=data)
        add("genres/blues/link.wav", tarfile.SYMTYPE, link=str(outside / "secret"))
        add("genres/blues/hard.wav", tarfile.LNKTYPE, link="../../../etc/passwd")
        add("genres/blues/dev.wav", tarfile.CHRTYPE)
        add("genres/blues/fifo.wav", tarfile.FIFOTYPE)
        # A member declaring 300 MB with no data behind it: checked from the header only.
        add("genres/blues/huge.wav", size=300 * MB)
    return path


def test_hostile_archive_extracts_only_safe_members_and_ingests_them(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    archive = _hostile_tar(tmp_path / "in" / "set.tar.gz", outside)
    store = Store(tmp_path / "store")
    summary = api.ingest(store, archive, dataset="set")
    assert summary.ok == 4
    reasons = {Path(p["path"]).name: p["reason"] for p in summary.problems}
    assert "'..'" in reasons["escape.wav"]
    assert "absolute" in reasons["abs.wav"]
    assert "links" in reasons["link.wav"] and "links" in reasons["hard.wav"]
    assert "device" in reasons["dev.wav"] and "device" in reasons["fifo.wav"]
    assert "member limit" in reasons["huge.wav"]
    assert all("\n" not in r for r in reasons.values())
    assert list(outside.iterdir()) == []
    assert not (tmp_path / "store" / "escape.wav").exists()
    extracted = sorted(p.name for p in (store.sources_dir / "set").rglob("*") if p.is_file())
    assert extracted == ["clip0.wav", "clip0.wav", "clip1.wav", "clip1.wav"]


# ---------------------------------------------------------------- audio files in a batch


def _lying_files(root: Path) -> dict[str, str]:
    """name -> a word of the reason; every kind the decoder must refuse."""
    label = root / "lies"
    expected: dict[str, str] = {}
    for kind, word in BROKEN_KINDS.items():
        write_broken(label / f"{kind}.wav", kind)
        expected[f"{kind}.wav"] = word
    good = (tone_clip(330.0) * 32767).astype("<i2").tobytes()
    inf = tone_clip(330.0)
    inf[7] = np.inf
    write_wav(label / "inf.wav", inf, SR, subtype="FLOAT")
    (label / "rate.wav").write_bytes(_riff(pcm16_header_fmt(10_000_000, 1), good))
    (label / "channels.wav").write_bytes(_riff(pcm16_header_fmt(SR, 4000), good))
    (label / "huge.wav").write_bytes(_riff(pcm16_header_fmt(SR, 1), good, 0xFFFFFF00))
    (label / "header.wav").write_bytes(_riff(pcm16_header_fmt(SR, 1), good)[:30])
    write_wav(label / "tenth.wav", tone_clip(330.0, seconds=0.1), SR)
    n = 2 * 3600 * SR * 2  # two hours declared, as a sparse file: no GBs written
    with open(label / "two_hours.wav", "wb") as fh:
        fh.write(_riff(pcm16_header_fmt(SR, 1), b"", n))
        fh.truncate(44 + n)
    (label / "pickle.wav").write_bytes(_evil_pickle(root / "PWNED"))
    au = b".snd" + struct.pack(">IIIII", 24, 1 << 30, 3, 0, 1) + good[:1000]
    (label / "au_zero_rate.au").write_bytes(au)
    expected.update(
        {
            "inf.wav": "NaN or Inf",
            "rate.wav": "sample rate",
            "channels.wav": "channel count",
            "huge.wav": "truncated",
            "header.wav": "not a recognised audio format",
            "tenth.wav": "too short",
            "two_hours.wav": "too long",
            "pickle.wav": "not a recognised audio format",
            "au_zero_rate.au": "sample rate",
        }
    )
    for i in range(2):
        write_wav(root / "fine" / f"ok{i}.wav", tone_clip(220.0 * (i + 1)), SR)
    return expected


def test_every_lying_audio_file_fails_alone_with_one_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    expected = _lying_files(data)
    store = Store(tmp_path / "store")
    summary = api.ingest(store, data)
    assert summary.ok == 2 and summary.failed == len(expected)
    failures = _failures(store, summary.dataset)
    assert set(failures) == set(expected)
    for name, word in expected.items():
        assert word in failures[name], (name, failures[name])
        assert "\n" not in failures[name] and len(failures[name]) <= 200
    assert not (data / "PWNED").exists()
    with store.connect(read_only=True) as con:  # one bad file costs no disk: 2 h sparse
        durations = [r.duration_s for r in t.tracks(con, summary.dataset, only_ok=True)]
    assert durations == [pytest.approx(1.5, abs=0.01)] * 2


def test_odd_label_names_and_duplicate_ids(tmp_path: Path, tiny_folder_tree: TinyTree) -> None:
    store = Store(tmp_path / "store")
    summary = api.ingest(store, tiny_folder_tree.root, dataset="odd")
    with store.connect(read_only=True) as con:
        labels = {r.label for r in t.tracks(con, "odd", only_ok=True)}
    assert labels == {"birds", "dögs café", "jazz.fusion"}
    reasons = [p["reason"] for p in summary.problems]
    assert any("duplicate track id 'birds/clip 0'" in r for r in reasons)


def test_a_non_utf8_folder_name_is_a_problem_not_a_crash(
    tmp_path: Path, tiny_folder_tree: TinyTree
) -> None:
    bad = os.fsencode(str(tiny_folder_tree.root)) + b"/caf\xe9 latin1"
    os.mkdir(bad)
    wav = write_wav(tmp_path / "x.wav", tone_clip(300.0), SR)
    with open(bad + b"/x.wav", "wb") as fh:
        fh.write(wav.read_bytes())
    summary = api.ingest(Store(tmp_path / "store"), tiny_folder_tree.root, dataset="odd")
    assert any("not valid UTF-8" in p["reason"] for p in summary.problems)


def test_a_file_that_disappears_mid_ingest_fails_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from percmusic_cli.steps import ingest as step

    data = tmp_path / "data"
    for i in range(3):
        write_wav(data / "a" / f"c{i}.wav", tone_clip(200.0 + 50 * i), SR)
    real = step.discover

    def discover_then_delete(root: Path) -> object:
        found = real(root)
        (data / "a" / "c1.wav").unlink()  # found by discovery, gone before it is read
        return found

    monkeypatch.setattr(step, "discover", discover_then_delete)
    store = Store(tmp_path / "store")
    summary = api.ingest(store, data)
    assert summary.ok == 2 and summary.failed == 1
    assert "No such file" in _failures(store, summary.dataset)["c1.wav"]


# ---------------------------------------------------------------- pickles in the store


def _store_with_array(tmp_path: Path) -> tuple[Store, a.ArrayRecord]:
    store = Store(tmp_path / "store")
    rec = a.write_array(store.root, "arrays/features-ab.npy", np.ones((2, 3)), "features")
    with store.connect() as con:
        t.record_array(con, rec)
    return store, rec


def test_array_replaced_by_a_pickle_is_refused_never_executed(tmp_path: Path) -> None:
    store, rec = _store_with_array(tmp_path)
    marker = tmp_path / "PWNED"
    path = store.root / rec.path
    path.write_bytes(_evil_pickle(marker))
    with pytest.raises(ArrayIntegrityError, match="altered"):
        a.read_array(store.root, rec)
    # Even when its row was recorded for the pickle itself, np.load refuses it.
    forged = a.ArrayRecord(
        rec.path, rec.kind, rec.shape, rec.dtype, a.sha256_file(path), path.stat().st_size
    )
    with pytest.raises(ArrayIntegrityError, match="unreadable"):
        a.read_array(store.root, forged)
    with open(path, "wb") as fh:
        np.lib.format.write_array(fh, np.array([_Boom(marker)], dtype=object))
    forged = a.ArrayRecord(
        rec.path, rec.kind, (1,), "object", a.sha256_file(path), path.stat().st_size
    )
    with pytest.raises(ArrayIntegrityError, match="unreadable"):
        a.read_array(store.root, forged)
    assert check_store(store)["problems"][0]["kind"] == "array_unreadable"
    assert not marker.exists()


@pytest.mark.parametrize("how", ["pickle", "torch.save", "garbage"])
def test_checkpoint_replaced_is_refused_never_executed(tmp_path: Path, how: str) -> None:
    import json

    import torch

    from percmusic_cli.config import ModelConfig
    from percmusic_cli.hashing import file_digest
    from percmusic_cli.models.autoencoder import build_autoencoder
    from percmusic_cli.models.checkpoint import load_checkpoint, save_checkpoint

    folder = save_checkpoint(
        tmp_path / "run",
        build_autoencoder(ModelConfig(hidden_channels=4, latent_channels=2, stages=2)),
        None,
        {"step": 1},
    )
    marker = tmp_path / "PWNED"
    target = folder / "model.safetensors"
    if how == "pickle":
        target.write_bytes(_evil_pickle(marker))
    elif how == "torch.save":
        torch.save({"x": _Boom(marker)}, target)
    else:
        target.write_bytes(np.random.default_rng(0).bytes(300))
    meta = json.loads((folder / "meta.json").read_text())  # forge the recorded checksum too
    meta["files"]["model.safetensors"] = file_digest(target)
    (folder / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(ArrayIntegrityError, match="refused") as info:
        load_checkpoint(folder)
    assert "model.safetensors" in str(info.value) and "\n" not in str(info.value)
    assert not marker.exists()


# ---------------------------------------------------------------- disk full, read-only


def _snapshot(store: Store) -> tuple[list[str], list[tuple[str, str]]]:
    files = sorted(
        p.relative_to(store.root).as_posix()
        for p in store.root.rglob("*")
        if p.is_file() and p.name != ".writer.lock" and "duckdb" not in p.name
    )
    with store.connect(read_only=True) as con:
        rows = sorted((r.path, r.sha256) for r in t.all_array_records(con))
    return files, rows


def test_disk_full_while_writing_an_array_leaves_the_store_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, _ = _store_with_array(tmp_path)
    before = _snapshot(store)

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(StoreError, match="No space left on device") as info:
        a.write_array(store.root, "arrays/features-cd.npy", np.zeros(4), "features")
    assert "features-cd.npy" in str(info.value) and "\n" not in str(info.value)
    monkeypatch.undo()
    assert _snapshot(store) == before
    assert check_store(store)["ok"] and check_store(store)["leftovers"] == []


def test_disk_full_during_features_is_one_line_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiny_folder_tree: TinyTree
) -> None:
    from typer.testing import CliRunner

    from percmusic_cli.cli.app import app

    runner = CliRunner()
    base = ["--quiet", "--store", str(tmp_path / "store")]
    assert runner.invoke(app, [*base, "ingest", str(tiny_folder_tree.root)]).exit_code == 0
    store = Store(tmp_path / "store")
    before = _snapshot(store)
    real_fsync = os.fsync

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    result = runner.invoke(app, [*base, "features", "--frames", "64"])
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot write")
    assert "No space left on device" in lines[0]
    assert _snapshot(store) == before


def test_read_only_store_fails_with_one_line_and_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, _ = _store_with_array(tmp_path)
    before = _snapshot(store)
    real_open = os.open
    root = str(store.root)

    def read_only(path: object, flags: int, *args: object, **kwargs: object) -> int:
        # Tests run as root, which chmod does not stop: refuse writes as EROFS would.
        if str(path).startswith(root) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return real_open(path, flags, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", read_only)
    with pytest.raises(StoreError, match="Read-only file system") as info:
        api.features(store, dataset="x")
    assert "\n" not in str(info.value)
    with pytest.raises(StoreError, match="Read-only file system"):
        a.write_array(store.root, "arrays/features-ef.npy", np.zeros(2), "features")
    monkeypatch.undo()
    assert _snapshot(store) == before


# ---------------------------------------------------------------- property-based


def _wav_like(draw: st.DrawFn) -> bytes:
    rate = draw(st.sampled_from([0, 1, 999, 8000, 22050, 384_001, 2**32 - 1]))
    channels = draw(st.sampled_from([0, 1, 2, 65, 4000, 65535]))
    bits = draw(st.sampled_from([0, 8, 16, 24, 32, 64]))
    fmt_tag = draw(st.sampled_from([1, 3, 0xFFFE, 0]))
    block = max(1, channels * bits // 8) & 0xFFFF
    fmt = struct.pack("<HHIIHH", fmt_tag, channels, rate, (rate * block) & 0xFFFFFFFF, block, bits)
    data = draw(st.binary(max_size=3000))
    declared = draw(st.one_of(st.none(), st.integers(0, 2**32 - 1)))
    raw = _riff(fmt, data, declared)
    cut = draw(st.integers(0, len(raw)))
    return raw[:cut] if draw(st.booleans()) else raw


@st.composite
def broken_audio(draw: st.DrawFn) -> tuple[str, bytes]:
    kind = draw(st.sampled_from(["random", "wav", "au", "flipped"]))
    if kind == "random":
        return ".wav", draw(st.binary(max_size=2000))
    if kind == "wav":
        return ".wav", _wav_like(draw)
    if kind == "au":
        header = struct.pack(
            ">IIIII",
            draw(st.integers(0, 2**32 - 1)),
            draw(st.integers(0, 2**32 - 1)),
            draw(st.integers(0, 30)),
            draw(st.integers(0, 2**32 - 1)),
            draw(st.integers(0, 70000)),
        )
        return ".au", b".snd" + header + draw(st.binary(max_size=2000))
    good = bytearray(
        _riff(
            pcm16_header_fmt(SR, 1), (tone_clip(300.0, seconds=0.6) * 20000).astype("<i2").tobytes()
        )
    )
    for _ in range(draw(st.integers(1, 8))):  # flip a few bytes of a good file's header
        good[draw(st.integers(0, 60))] = draw(st.integers(0, 255))
    return ".wav", bytes(good)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(broken_audio())
def test_decoder_lets_only_decode_error_escape(case: tuple[str, bytes]) -> None:
    suffix, payload = case
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"x{suffix}"
        path.write_bytes(payload)
        try:
            audio = decode(path)
        except DecodeError as exc:
            assert "\n" not in str(exc) and len(str(exc)) <= 200
            return
    # Whatever decoded must be sane: finite mono samples at the target rate.
    assert audio.samples.ndim == 1 and audio.samples.dtype == np.float32
    assert np.isfinite(audio.samples).all() and audio.duration_s >= 0.5


def test_disk_full_while_saving_a_checkpoint_is_a_store_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from percmusic_cli.config import ModelConfig, TrainConfig

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "replace", full)
    cfg = TrainConfig(loss="mse", steps=2, batch_size=1, patch=16, checkpoint_every=1, device="cpu")
    tiny = ModelConfig(hidden_channels=4, latent_channels=2, stages=2)
    with pytest.raises(StoreError, match="No space left on device") as info:
        api.train(Store(tmp_path / "store"), cfg, tiny)
    assert "checkpoint" in str(info.value)
