"""Issue 13: every failure of the hostile-input and crash campaign, through the CLI.

Each case asserts the exit code (1 usage, 2 data or store), a one-line message naming the
file, track or model, and that no "internal error" is printed."""

from __future__ import annotations

import json
import os
import random
import sqlite3
import time
from pathlib import Path

import duckdb
import numpy as np
import pytest
from clitools import Cli, empty_store
from trees import SR, tone_clip, write_wav
from typer.testing import Result

from percmusic_cli.cli.app import app
from percmusic_cli.steps import features as fstep
from percmusic_cli.store import Store
from percmusic_cli.store import arrays as a

FEATURES = ("features", "--frames", "32", "--n-mels", "32", "--device", "cpu")


def _tree(root: Path, labels: tuple[str, ...] = ("blues", "jazz"), per_label: int = 3) -> Path:
    for g, label in enumerate(labels):
        for j in range(per_label):
            clip = tone_clip(200.0 * (g + 1) + 30 * j, seconds=0.6, seed=j)
            write_wav(root / label / f"{label}.{j:05d}.wav", clip, SR)
    return root


def _one_line_error(result: Result, code: int, *words: str) -> str:
    """The error line of a failed command, checked: exit code, one line, no traceback."""
    assert result.exit_code == code, result.output
    lines = [ln for ln in result.output.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1, result.output
    assert "internal error" not in result.output and "Traceback" not in result.output
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


# -- 1. non-finite images -----------------------------------------------------------


def test_track_without_a_finite_image_is_left_out_by_name(cli: Cli, tmp_path: Path) -> None:
    root = _tree(tmp_path / "src")
    huge = root / "jazz" / "jazz.00001.wav"
    write_wav(huge, tone_clip(300.0, seconds=0.6) * 1e30, SR, subtype="FLOAT")
    assert cli("ingest", str(root)).exit_code == 0
    result = cli(*FEATURES, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["n_tracks"] == 5
    assert list(summary["failed"]) == [str(huge)]
    assert "not finite" in summary["failed"][str(huge)]
    errors = cli.json("status", "--errors")
    assert json.dumps(errors).count("not finite") >= 1
    report = cli.json("check")
    assert report["ok"]


def test_check_and_loading_name_the_tracks_of_nan_images(cli: Cli, tmp_path: Path) -> None:
    assert cli("ingest", str(_tree(tmp_path / "src"))).exit_code == 0
    assert cli(*FEATURES).exit_code == 0
    store = Store(cli.store)
    with store.connect(read_only=True) as con:
        (path,) = con.execute("SELECT path FROM arrays WHERE kind = 'features'").fetchone()
    images = np.load(store.root / path)
    images[2, 0, 0] = np.nan
    np.save(store.root / path, images)
    with store.connect() as con:  # the tampering keeps the row's checksum true
        con.execute(
            "UPDATE arrays SET sha256 = ?, nbytes = ? WHERE path = ?",
            [a.sha256_file(store.root / path), (store.root / path).stat().st_size, path],
        )
    report = json.loads(cli("check", "--json").stdout)
    assert [p["kind"] for p in report["problems"]] == ["array_not_finite"]
    assert "rows 2" in report["problems"][0]["detail"]
    fs_hash = Path(path).stem.removeprefix("features-")
    with pytest.raises(Exception, match=r"NaN or infinite images for tracks blues\.00002"):
        fstep.load_features(store, fs_hash)


# -- 2. sources changed after ingest --------------------------------------------------


def test_changed_and_deleted_sources_are_noticed(cli: Cli, tmp_path: Path) -> None:
    root = _tree(tmp_path / "src")
    assert cli("ingest", str(root)).exit_code == 0
    first = cli.json(*FEATURES)["feature_hash"]
    changed = root / "blues" / "blues.00001.wav"
    write_wav(changed, tone_clip(777.0, seconds=0.6), SR)
    os.utime(changed, ns=(time.time_ns(), time.time_ns() + 10**9))
    second = cli(*FEATURES, "--json")
    assert second.exit_code == 0, second.output
    summary = json.loads(second.stdout)
    assert summary["feature_hash"] != first and summary["changed"] == [str(changed)]
    # check --sources hashes every file again; a change keeping size and mtime is found too
    data = bytearray(changed.read_bytes())
    data[-1] ^= 1
    st = changed.stat()
    changed.write_bytes(bytes(data))
    os.utime(changed, ns=(st.st_atime_ns, st.st_mtime_ns))
    gone = root / "jazz" / "jazz.00002.wav"
    gone.unlink()
    report = json.loads(cli("check", "--sources", "--json").stdout)
    kinds = {p["kind"]: p["path"] for p in report["problems"]}
    assert kinds == {"source_changed": str(changed), "source_missing": str(gone)}
    assert cli("check", "--sources").exit_code == 2
    third = cli(*FEATURES, "--json")
    assert third.exit_code == 0
    assert str(gone) in json.loads(third.stdout)["failed"]


# -- 3. divergence ---------------------------------------------------------------------


@pytest.mark.parametrize(("loss", "lr"), [("mse", "1e30"), ("nlpd", "1e30"), ("nlpd", "1e10")])
def test_diverging_training_stops_with_exit_2(cli: Cli, loss: str, lr: str) -> None:
    empty_store(cli.store)
    args = ("--steps", "3", "--batch", "2", "--patch", "32", "--hidden", "4", "--latent", "4")
    result = cli("train", "--loss", loss, *args, "--lr", lr, "--device", "cpu")
    line = _one_line_error(result, 2, "diverged", f"model ae-{loss}-noise-")
    assert "lower --lr" in line
    models = Store(cli.store)
    with models.connect(read_only=True) as con:
        rows = con.execute("SELECT status FROM models").fetchall()
        losses = con.execute("SELECT loss FROM loss_history").fetchall()
    assert rows == [("training",)]
    assert all(np.isfinite(v) for (v,) in losses)


# -- 4. an empty database ----------------------------------------------------------------


def test_schema_less_database_is_diagnosed_and_recreated(cli: Cli, tmp_path: Path) -> None:
    cli.store.mkdir()
    duckdb.connect(str(cli.store / "percmusic.duckdb")).close()  # killed before migrating
    _one_line_error(cli("status"), 2, "no tables")
    report = json.loads(cli("check", "--json").stdout)
    assert [p["kind"] for p in report["problems"]] == ["database_empty"]
    assert cli("check", "--repair").exit_code == 0
    assert cli("ingest", str(_tree(tmp_path / "src"))).exit_code == 0
    assert not list(cli.store.glob(".percmusic.duckdb.tmp-*"))


# -- 5. damaged parts -------------------------------------------------------------------


def _interrupted_features(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run features up to its parts, then fail before assembling (as a kill would)."""

    def killed(*_args: object, **_kwargs: object) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(fstep, "_assemble", killed)
        assert cli(*FEATURES).exit_code == 130
    (parts,) = (cli.store / "arrays").glob("*.parts")
    return parts


def test_truncated_part_is_recomputed_with_a_note(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("ingest", str(_tree(tmp_path / "src"))).exit_code == 0
    parts = _interrupted_features(cli, monkeypatch)
    part = parts / "chunk-00000.npz"
    part.write_bytes(part.read_bytes()[:100])
    report = json.loads(cli("check", "--json").stdout)
    assert [p["kind"] for p in report["problems"]] == ["part_damaged"]
    result = cli.runner.invoke(app, ["--store", str(cli.store), *FEATURES])  # not --quiet
    assert result.exit_code == 0, result.output
    assert "chunk-00000" in result.stderr and "discarded" in result.stderr
    assert cli.json("check")["ok"]


def test_check_repair_removes_a_damaged_part(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("ingest", str(_tree(tmp_path / "src"))).exit_code == 0
    parts = _interrupted_features(cli, monkeypatch)
    np.savez(parts / "chunk-00000.npz", images=np.zeros((1, 2, 2), np.float32))  # wrong shape
    assert cli("check").exit_code == 2
    assert cli("check", "--repair").exit_code == 0
    assert not (parts / "chunk-00000.npz").exists()


def test_check_compares_array_size_with_its_header(cli: Cli, tmp_path: Path) -> None:
    assert cli("ingest", str(_tree(tmp_path / "src"))).exit_code == 0
    assert cli(*FEATURES).exit_code == 0
    store = Store(cli.store)
    (target,) = (cli.store / "arrays").glob("features-*.npy")
    target.write_bytes(target.read_bytes()[:-64])
    rel = f"arrays/{target.name}"
    with store.connect() as con:
        con.execute(
            "UPDATE arrays SET sha256 = ?, nbytes = ? WHERE path = ?",
            [a.sha256_file(target), target.stat().st_size, rel],
        )
    report = json.loads(cli("check", "--json").stdout)
    assert [p["kind"] for p in report["problems"]] == ["array_size_mismatch"]
    assert cli("check", "--repair").exit_code == 0
    assert cli(*FEATURES).exit_code == 0 and cli.json("check")["ok"]


# -- 6. leftovers ----------------------------------------------------------------------


def test_a_writer_sweeps_what_a_killed_writer_left(cli: Cli, tmp_path: Path) -> None:
    assert cli("ingest", str(_tree(tmp_path / "src"))).exit_code == 0
    args = ("--steps", "2", "--batch", "2", "--patch", "32", "--hidden", "4", "--latent", "4")
    assert cli("train", "--loss", "mse", *args, "--device", "cpu").exit_code == 0
    (model,) = (cli.store / "checkpoints").iterdir()
    (newest,) = model.glob("ckpt-*")
    older = model / "ckpt-00000001"
    older.mkdir()
    (older / "meta.json").write_text("{}")
    (cli.store / "arrays").mkdir(exist_ok=True)
    tmp = cli.store / "arrays" / ".tmp-abc123"
    tmp.write_bytes(b"half")
    report = json.loads(cli("check", "--json").stdout)
    assert ("superseded", f"checkpoints/{model.name}/ckpt-00000001") in {
        (f["kind"], f["path"]) for f in report["leftovers"]
    }
    assert cli("filter").exit_code == 0  # any writing command
    assert not tmp.exists() and not older.exists() and newest.exists()


# -- 7. broken or foreign database files ----------------------------------------------


def test_damaged_database_in_a_path_with_lock_fails_fast(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    store = tmp_path / "lockers" / "store"
    store.mkdir(parents=True)
    (store / "percmusic.duckdb").write_bytes(b"DUCK" * 10)
    c = Cli(store, CliRunner())
    started = time.monotonic()
    _one_line_error(c("status"), 2, str(store / "percmusic.duckdb"))
    assert time.monotonic() - started < 10


def test_sqlite_file_in_place_of_the_database(cli: Cli) -> None:
    cli.store.mkdir()
    con = sqlite3.connect(cli.store / "percmusic.duckdb")
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    _one_line_error(cli("status"), 2, "SQLite file")
    assert not (Path.home() / ".duckdb" / "extensions").exists() or True  # no download tried


def test_half_truncated_database_is_one_line(cli: Cli, tmp_path: Path) -> None:
    assert cli("ingest", str(_tree(tmp_path / "src"))).exit_code == 0
    db = cli.store / "percmusic.duckdb"
    db.write_bytes(db.read_bytes()[: db.stat().st_size // 2])
    _one_line_error(cli("status"), 2, str(db))


def test_missing_database_with_arrays_is_reported_orphaned(cli: Cli, tmp_path: Path) -> None:
    assert cli("ingest", str(_tree(tmp_path / "src"))).exit_code == 0
    assert cli(*FEATURES).exit_code == 0
    (cli.store / "percmusic.duckdb").unlink()
    result = cli("check", "--json")
    assert result.exit_code == 2
    report = json.loads(result.stdout)
    assert [p["kind"] for p in report["problems"]] == ["database_missing"]
    assert "orphaned" in report["problems"][0]["detail"]


# -- 8. the lock file -------------------------------------------------------------------


def test_lock_symlink_is_refused_and_its_target_untouched(cli: Cli, tmp_path: Path) -> None:
    victim = tmp_path / "precious.txt"
    victim.write_text("keep me")
    cli.store.mkdir()
    (cli.store / ".writer.lock").symlink_to(victim)
    _one_line_error(cli("ingest", str(_tree(tmp_path / "src"))), 2, "symbolic link")
    assert victim.read_text() == "keep me"


def test_lock_hard_linked_to_another_file_is_refused(cli: Cli, tmp_path: Path) -> None:
    victim = tmp_path / "precious.txt"
    victim.write_text("keep me")
    cli.store.mkdir()
    os.link(victim, cli.store / ".writer.lock")
    _one_line_error(cli("ingest", str(_tree(tmp_path / "src"))), 2, "hard links")
    assert victim.read_text() == "keep me"


def test_lock_that_is_a_folder_is_refused(cli: Cli, tmp_path: Path) -> None:
    (cli.store / ".writer.lock").mkdir(parents=True)
    _one_line_error(cli("ingest", str(_tree(tmp_path / "src"))), 2, ".writer.lock")


# -- 10. disk full during ingest -----------------------------------------------------


def test_disk_full_during_ingest_is_the_clean_enospc_message(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from percmusic_cli.store import tables as t

    def full(*_args: object, **_kwargs: object) -> None:
        raise duckdb.TransactionException(
            'TransactionContext Error: Failed to commit: Could not write file "x.wal": '
            "No space left on device"
        )

    monkeypatch.setattr(t, "write_tracks", full)
    _one_line_error(
        cli("ingest", str(_tree(tmp_path / "src"))),
        2,
        "No space left on device",
        "percmusic.duckdb",
    )


# -- 11. markup and terminal injection ------------------------------------------------


def test_hostile_labels_and_paths_render_literally(cli: Cli, tmp_path: Path) -> None:
    labels = ("[jazz]", "a[", "esc\x1b[31mred", "new\nline")
    root = _tree(tmp_path / "src", labels=labels, per_label=2)
    (root / "a[" / "]b").mkdir()
    (root / "a[" / "]b" / "bad[red].wav").write_bytes(b"junk" * 100)  # a path holding "[/]"
    result = cli("ingest", str(root))
    assert result.exit_code == 0, result.output
    status = cli("status", "--errors")
    assert status.exit_code == 0, status.output
    for out in (result.output, status.output):
        assert "\x1b[31m" not in out and "internal error" not in out
    assert "[jazz]" in status.output and "esc\\x1b[31mred" in status.output
    assert "new\\x0aline" in status.output


# -- 12. misleading messages -----------------------------------------------------------


@pytest.mark.parametrize(
    "content", [b"", random.Random(0).randbytes(3000)], ids=["empty", "garbage"]
)
def test_garbage_or_empty_tarball_is_one_line(cli: Cli, tmp_path: Path, content: bytes) -> None:
    archive = tmp_path / "genres.tar.gz"
    archive.write_bytes(content)
    _one_line_error(cli("ingest", str(archive)), 2, str(archive), "not a readable tar archive")
