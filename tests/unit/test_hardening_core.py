"""Issue 13, the pieces below the CLI: NaN through the NLPD loss, DuckDB's lock phrase,
part checksums, MP3 and tar messages, archive limits, file modes, numba's cache folder,
and the one escaping helper (hypothesis strategy of hostile names, CLI and dashboard)."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import duckdb
import numpy as np
import pytest
import torch
from clitools import Cli
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pilots import settle
from trees import SR, tone_clip, write_wav
from typer.testing import CliRunner

from percmusic_cli.audio import decode
from percmusic_cli.datasets import archive
from percmusic_cli.datasets.archive import safe_extract
from percmusic_cli.errors import DataError, DecodeError
from percmusic_cli.metrics.nlpd import safe_sqrt
from percmusic_cli.render import safe
from percmusic_cli.store import Store
from percmusic_cli.store import arrays as a
from percmusic_cli.store.db import is_lock_conflict


def test_safe_sqrt_keeps_nan_and_zero_gradient_at_zero() -> None:
    x = torch.tensor([0.0, 4.0, float("nan")], requires_grad=True)
    y = safe_sqrt(x)
    assert y[0] == 0 and y[1] == 2 and torch.isnan(y[2])
    y[:2].sum().backward()
    assert x.grad is not None and x.grad[0] == 0 and x.grad[1] == pytest.approx(0.25)


def test_lock_conflict_is_matched_by_duckdbs_phrase_not_the_word_lock() -> None:
    path_with_lock = 'IO Error: Could not read enough bytes from file "/data/lock/x.duckdb"'
    assert not is_lock_conflict(duckdb.IOException(path_with_lock))
    held = 'IO Error: Could not set lock on file "/s/x.duckdb": Conflicting lock is held in (PID 7)'
    assert is_lock_conflict(duckdb.IOException(held))


def test_part_checksum_rejects_and_discards_a_damaged_part(tmp_path: Path) -> None:
    rel = "arrays/features-x.npy"
    a.write_part(tmp_path, rel, "chunk-00000", {"images": np.ones((2, 3), np.float32)})
    assert a.has_part(tmp_path, rel, "chunk-00000")
    part = a.parts_dir(tmp_path, rel) / "chunk-00000.npz"
    part.write_bytes(part.read_bytes()[:50])
    assert "sha256" in (a.part_problem(tmp_path, rel, "chunk-00000") or "")
    assert not a.has_part(tmp_path, rel, "chunk-00000")
    assert not part.exists()


def test_truncated_part_read_is_an_integrity_error_not_badzipfile(tmp_path: Path) -> None:
    rel = "arrays/dist-mse-x.npy"
    a.write_part(tmp_path, rel, "t0", {"d": np.ones(4)})
    part = a.parts_dir(tmp_path, rel) / "t0.npz"
    part.write_bytes(part.read_bytes()[:30])
    with pytest.raises(a.ArrayIntegrityError, match=r"t0\.npz is unreadable"):
        a.read_part(tmp_path, rel, "t0")


def test_mp3_with_junk_after_id3_is_named_truthfully_and_quietly(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "song.mp3"
    path.write_bytes(b"ID3\x04\x00\x00\x00\x00\x00\x0a" + b"\x00" * 10 + os.urandom(5000))
    with pytest.raises(DecodeError) as err:
        decode(path)
    assert "MP3" in str(err.value) and "pipe" not in str(err.value)
    assert "Note:" not in capfd.readouterr().err


def _tar(path: Path, members: list[tuple[str, bytes | None]]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            if data is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return path


def test_file_then_folder_of_the_same_name_is_skipped_and_extraction_goes_on(
    tmp_path: Path,
) -> None:
    path = _tar(
        tmp_path / "a.tar.gz",
        [("g/blues", b"x"), ("g/blues", None), ("g/blues/a.wav", b"y"), ("g/jazz/b.wav", b"z")],
    )
    problems = safe_extract(path, tmp_path / "out")
    assert (tmp_path / "out/g/jazz/b.wav").read_bytes() == b"z"
    reasons = [p.reason for p in problems]
    assert any("a file and a folder share this name" in r for r in reasons), reasons
    assert not any("unreadable" in r for r in reasons)


def test_expansion_ratio_limit_stops_a_bomb(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(archive, "_RATIO_FLOOR", 1000)
    path = _tar(tmp_path / "bomb.tar.gz", [("g/a/x.wav", bytes(200_000))])
    with pytest.raises(DataError, match=r"expands to \d+ times its compressed size \(limit 5"):
        safe_extract(path, tmp_path / "out", max_ratio=5)
    assert not (tmp_path / "out/g/a/x.wav").exists()


def test_free_disk_space_is_checked_before_extracting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _tar(tmp_path / "a.tar.gz", [("g/a/x.wav", b"1" * 1000)])
    full = type("Usage", (), {"free": 10, "total": 10, "used": 0})()
    monkeypatch.setattr(archive.shutil, "disk_usage", lambda _p: full)
    with pytest.raises(DataError, match="not enough free disk space"):
        safe_extract(path, tmp_path / "out")


def test_arrays_and_checkpoints_follow_the_umask(tmp_path: Path) -> None:
    from percmusic_cli.config import ModelConfig
    from percmusic_cli.models.autoencoder import build_autoencoder
    from percmusic_cli.models.checkpoint import save_checkpoint

    rec = a.write_array(tmp_path, "arrays/x.npy", np.zeros(3), kind="features")
    assert (tmp_path / rec.path).stat().st_mode & 0o777 == a.FILE_MODE
    model = build_autoencoder(ModelConfig(hidden_channels=2, latent_channels=2))
    folder = save_checkpoint(tmp_path / "ckpt", model, None, {"step": 1})
    assert folder.stat().st_mode & 0o777 == a.DIR_MODE
    assert {p.stat().st_mode & 0o777 for p in folder.iterdir()} == {a.FILE_MODE}
    assert a.FILE_MODE != 0o600  # (with the usual umask 022: 0644)


def test_numba_cache_lives_in_percmusic_cache(tmp_path: Path) -> None:
    env = {**os.environ, "PERCMUSIC_CACHE": str(tmp_path / "cache")}
    env.pop("NUMBA_CACHE_DIR", None)
    code = "import percmusic_cli, numba.core.config as c; print(c.CACHE_DIR)"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == str(tmp_path / "cache" / "numba")


# -- escaping ---------------------------------------------------------------------------


def test_safe_helper_shows_controls_and_escapes_markup() -> None:
    assert safe.shown("a\x1b[31mb\nc") == "a\\x1b[31mb\\x0ac"
    assert safe.markup("[jazz] a[/]b") == "\\[jazz] a\\[/]b"
    assert safe.text("x\ty").plain == "x\\x09y"


HOSTILE = st.text(
    alphabet=st.sampled_from([*list("ab[]/\\=#:;!*"), "\x1b", "\n", "\r", "\x07", "\x9b", "é"]),
    min_size=1,
    max_size=12,
).map(lambda s: s.replace("/", "[/]"))


def _folder_name(label: str) -> str:
    # a folder name: no "/" (kept as "[/]" text), not "." or "..", not hidden
    return "L" + label.replace("/", "\u2215")


@pytest.mark.slow
@settings(
    max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(labels=st.lists(HOSTILE, min_size=1, max_size=4, unique=True))
# The case the random search found (a label "[": track id "L[/L[0", which Textual read as a
# closing tag) and others of its kind, so they run on every clone, not only when drawn.
# Several labels share one store and one dashboard session: the session, not the label, is
# what costs (about 4 s each), and every label still goes through every command and screen.
@example(labels=["[", "a[", "[[", "\\[", "[b]\\"])
def test_hostile_names_through_ingest_status_results_and_dashboard(
    tmp_path_factory: pytest.TempPathFactory, labels: list[str]
) -> None:
    base = tmp_path_factory.mktemp("hostile")
    names = [_folder_name(label) for label in labels]
    for j, lab in enumerate([*names, "plain"]):
        write_wav(base / "src" / lab / f"{lab}{j}.wav", tone_clip(300.0 + 90 * j, seconds=0.6), SR)
    for name in names:
        (base / "src" / name / "broken.wav").write_bytes(b"junk" * 50)
    cli = Cli(base / "store", CliRunner())
    for args in (("ingest", str(base / "src")), ("status", "--errors"), ("results",)):
        result = cli(*args)
        assert result.exit_code in (0, 2), result.output
        assert "internal error" not in result.output and "Traceback" not in result.output
        assert "\x1b" not in result.output and "\x9b" not in result.output
    asyncio.run(_dashboard_shows(Store(base / "store"), names))


async def _dashboard_shows(store: Store, labels: list[str]) -> None:
    from percmusic_cli.tui.app import build_app
    from percmusic_cli.tui.screens.overview import OverviewScreen

    app = build_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, OverviewScreen)
        shown = {r["label"] for r in screen.status["datasets"][0]["labels"]}
        assert set(labels) <= shown
        # The tracks screen renders every label and path; each row highlighted shows its
        # track (one row per label, and one for "plain").
        for key in ("5", "enter", *["down"] * len(labels), "enter", "1", "2", "3", "4", "6"):
            await settle(pilot, key)
        assert app.is_running and app.return_code is None
