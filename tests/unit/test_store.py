"""The store: migrations, atomic checksummed arrays, the writer lock, connections."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import pytest

from percmusic_cli.errors import ArrayIntegrityError, DataError, StoreError, StoreLockedError
from percmusic_cli.store import Store, locate
from percmusic_cli.store import arrays as a
from percmusic_cli.store import tables as t
from percmusic_cli.store.db import migrate, schema_version
from percmusic_cli.store.schema import LATEST_VERSION, MIGRATIONS


def test_locate_prefers_option_then_env_then_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERCMUSIC_STORE", "/env/store")
    assert locate("/opt/store") == Path("/opt/store")
    assert locate(None) == Path("/env/store")
    monkeypatch.delenv("PERCMUSIC_STORE")
    assert locate(None) == Path("store")


def test_new_store_is_at_latest_version(tmp_path: Path) -> None:
    store = Store(tmp_path)
    with store.connect() as con:
        assert schema_version(con) == LATEST_VERSION
        applied = [r[0] for r in con.execute("SELECT version FROM schema_migrations").fetchall()]
    assert applied == [m.version for m in MIGRATIONS]
    assert applied == sorted(applied) and len(set(applied)) == len(applied)


def _version_1_store(folder: Path) -> duckdb.DuckDBPyConnection:
    """A store database left at schema version 1, still open."""
    con = duckdb.connect(str(folder / "percmusic.duckdb"))
    con.execute(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, "
        "description VARCHAR, applied_at TIMESTAMP DEFAULT current_timestamp)"
    )
    con.execute(MIGRATIONS[0].sql)
    con.execute("INSERT INTO schema_migrations (version, description) VALUES (1, 'v1')")
    return con


def test_older_store_is_migrated_and_keeps_its_rows(tmp_path: Path) -> None:
    con = _version_1_store(tmp_path)
    con.execute("INSERT INTO datasets (name, kind, root) VALUES ('old', 'folder', '/x')")
    con.close()
    with Store(tmp_path).connect() as con:
        assert schema_version(con) == LATEST_VERSION
        assert t.dataset_names(con) == ["old"]
        assert con.execute("SELECT count(*) FROM runs").fetchone() == (0,)


def test_taking_the_writer_lock_migrates_an_older_store(tmp_path: Path) -> None:
    """Writing commands read through read-only connections, which never migrate: the
    writer lock brings the schema up to date first, so new columns are there to read."""
    _version_1_store(tmp_path).close()
    store = Store(tmp_path)
    with store.writer(0.0, "test"), store.connect(read_only=True) as ro:
        assert schema_version(ro) == LATEST_VERSION


def test_newer_store_is_refused(tmp_path: Path) -> None:
    with Store(tmp_path).connect() as con:
        con.execute("INSERT INTO schema_migrations (version, description) VALUES (999, 'x')")
    with pytest.raises(StoreError, match="newer than this percmusic"), Store(tmp_path).connect():
        pass


def test_migrate_is_idempotent(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "x.duckdb"))
    assert migrate(con) == LATEST_VERSION
    assert migrate(con) == LATEST_VERSION
    assert con.execute("SELECT count(*) FROM schema_migrations").fetchone() == (len(MIGRATIONS),)


def test_read_only_on_a_missing_store_says_it_is_empty(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="empty"), Store(tmp_path / "none").connect(read_only=True):
        pass


def test_array_round_trip_records_shape_dtype_sha(tmp_path: Path) -> None:
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    rec = a.write_array(tmp_path, "arrays/x.npy", x, kind="test")
    assert rec.shape == (3, 4) and rec.dtype == "float32"
    assert rec.sha256 == a.sha256_file(tmp_path / "arrays/x.npy")
    np.testing.assert_array_equal(a.read_array(tmp_path, rec), x)
    assert not [p for p in (tmp_path / "arrays").iterdir() if p.name.startswith(a.TMP_PREFIX)]


def test_altered_or_missing_array_is_reported_not_loaded(tmp_path: Path) -> None:
    rec = a.write_array(tmp_path, "arrays/x.npy", np.zeros(5), kind="test")
    target = tmp_path / "arrays/x.npy"
    data = bytearray(target.read_bytes())
    data[-1] ^= 0xFF
    target.write_bytes(bytes(data))
    with pytest.raises(ArrayIntegrityError, match="altered"):
        a.read_array(tmp_path, rec)
    target.unlink()
    with pytest.raises(ArrayIntegrityError, match="missing"):
        a.read_array(tmp_path, rec)


def test_failed_write_leaves_no_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_space(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", no_space)
    with pytest.raises(StoreError, match="No space left"):
        a.write_array(tmp_path, "arrays/x.npy", np.zeros(5), kind="test")
    assert list((tmp_path / "arrays").iterdir()) == []


def test_parts_round_trip_and_removal(tmp_path: Path) -> None:
    a.write_part(tmp_path, "arrays/m.npy", "t-0", {"d": np.eye(2)})
    assert a.has_part(tmp_path, "arrays/m.npy", "t-0")
    assert not a.has_part(tmp_path, "arrays/m.npy", "t-1")
    np.testing.assert_array_equal(a.read_part(tmp_path, "arrays/m.npy", "t-0")["d"], np.eye(2))
    a.remove_parts(tmp_path, "arrays/m.npy")
    assert not a.parts_dir(tmp_path, "arrays/m.npy").exists()


HOLD_LOCK = """
import sys, time
from pathlib import Path
from percmusic_cli.store.lock import WriterLock
with WriterLock(Path(sys.argv[1]), command="holder"):
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def _hold(root: Path, seconds: float) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(root), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    return proc


def test_second_writer_fails_fast_naming_the_pid(tmp_path: Path) -> None:
    proc = _hold(tmp_path, 10)
    try:
        started = time.monotonic()
        with (
            pytest.raises(StoreLockedError, match=f"in use by PID {proc.pid} \\(holder\\)"),
            Store(tmp_path).writer(),
        ):
            pass
        assert time.monotonic() - started < 2
    finally:
        proc.kill()
        proc.wait()


def test_writer_waits_for_the_first_to_finish(tmp_path: Path) -> None:
    proc = _hold(tmp_path, 0.5)
    try:
        with Store(tmp_path).writer(wait_s=20) as lock:
            assert lock.path.read_text().startswith(f"PID {os.getpid()}")
    finally:
        proc.wait()


HOLD_DB = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
print("open", flush=True)
time.sleep(30)
"""


def test_locked_database_gives_one_line_error(tmp_path: Path) -> None:
    store = Store(tmp_path, busy_timeout_s=0.3)
    with store.connect():
        pass
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD_DB, str(store.db_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "open"
        with pytest.raises(StoreLockedError) as info, store.connect(read_only=True):
            pass
        message = str(info.value)
        assert "\n" not in message and f"PID {proc.pid}" in message
    finally:
        proc.kill()
        proc.wait()
