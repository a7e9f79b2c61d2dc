"""Units of work attach the store's file to one in-memory DuckDB instance per process
(`percmusic_cli.store.instance`): what a plain `duckdb.connect` per unit of work gave must
still hold (the file is free between units, one store never sees another's tables), and
units of work in one process share the file."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest

from percmusic_cli.errors import StoreLockedError
from percmusic_cli.store import Store, instance
from percmusic_cli.store import models as sm
from percmusic_cli.store import studies as ss


def _store(root: Path, busy_timeout_s: float = 30.0) -> Store:
    root.mkdir(parents=True, exist_ok=True)
    return Store(root, busy_timeout_s=busy_timeout_s)


def _with_table(root: Path, busy_timeout_s: float = 30.0) -> Store:
    """A store whose database holds one empty table `t (a INTEGER)`."""
    store = _store(root, busy_timeout_s)
    with store.connect() as con:
        con.execute("CREATE TABLE t (a INTEGER)")
    return store


def _attached(store: Store) -> bool:
    return os.path.abspath(store.db_path) in instance._host().files


def _other_process_writes(store: Store) -> str:
    """Open the file read-write from another process (fails while this one holds it)."""
    code = (
        "import duckdb, sys\n"
        "try:\n"
        "    duckdb.connect(sys.argv[1]).execute('SELECT 1').fetchall()\n"
        "except duckdb.Error as e:\n"
        "    print(str(e).splitlines()[0])\n"
        "else:\n"
        "    print('opened')\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(store.db_path)], capture_output=True)
    return done.stdout.decode().strip()


def test_the_file_is_free_for_other_processes_between_units_of_work(tmp_path: Path) -> None:
    store = _store(tmp_path / "store")
    with store.connect() as con:
        con.execute("CREATE TABLE t (a INTEGER)")
        assert _attached(store)
        assert _other_process_writes(store).startswith("IO Error: Could not set lock")
    assert not _attached(store)
    assert _other_process_writes(store) == "opened"
    with store.connect(read_only=True) as con:
        assert con.execute("SELECT count(*) FROM t").fetchone() == (0,)


def test_nested_units_share_the_file_and_the_last_detaches_it(tmp_path: Path) -> None:
    store = _store(tmp_path / "store")
    with store.connect() as outer:
        outer.execute("CREATE TABLE t (a INTEGER)")
        outer.execute("INSERT INTO t VALUES (1)")
        with store.connect(read_only=True) as inner:  # a read inside a write shares it
            assert inner.execute("SELECT count(*) FROM t").fetchone() == (1,)
        assert _attached(store)
        outer.execute("INSERT INTO t VALUES (2)")
    assert not _attached(store)
    with store.connect(read_only=True) as con:
        assert con.execute("SELECT sum(a) FROM t").fetchone() == (3,)


def test_a_write_waits_for_reads_in_this_process_then_runs(tmp_path: Path) -> None:
    store = _with_table(tmp_path / "store", busy_timeout_s=10.0)
    reading = threading.Event()

    def read_for_a_while() -> None:
        with store.connect(read_only=True) as con:
            reading.set()
            time.sleep(0.4)
            con.execute("SELECT count(*) FROM t").fetchone()

    reader = threading.Thread(target=read_for_a_while)
    reader.start()
    assert reading.wait(5)
    start = time.monotonic()
    with store.connect() as con:  # waits for the read above
        con.execute("INSERT INTO t VALUES (1)")
    assert time.monotonic() - start >= 0.2
    reader.join()
    with store.connect(read_only=True) as con:
        assert con.execute("SELECT count(*) FROM t").fetchone() == (1,)


def test_a_write_inside_a_read_gives_up_after_the_busy_timeout(tmp_path: Path) -> None:
    store = _with_table(tmp_path / "store", busy_timeout_s=0.3)
    reading, writing = store.connect(read_only=True), store.connect()
    with reading, pytest.raises(StoreLockedError, match="being read by this process"), writing:
        pass
    with store.connect() as con:  # the read finished: the write goes ahead
        con.execute("INSERT INTO t VALUES (1)")


def test_stores_attached_together_see_only_their_own_tables(tmp_path: Path) -> None:
    """Questions about the schema are asked of the unit's own database: a store from
    before migration 6 stays one while a newer store is attached beside it."""
    new, old = _store(tmp_path / "new"), _store(tmp_path / "old")
    with new.connect() as con:
        ss.save_study(con, "s1", {"dataset": "d", "seeds": 1, "folds": 1, "x": 1})
    plain = duckdb.connect(str(old.db_path))
    plain.execute("CREATE TABLE models (model_id VARCHAR)")
    plain.close()
    with new.connect(read_only=True) as a, instance.attached(old.db_path, True) as b:
        assert ss.latest_study(a) is not None and sm.has_learning(a)
        assert ss.latest_study(b) is None and not sm.has_learning(b)


def test_a_path_with_a_quote_and_spaces(tmp_path: Path) -> None:
    store = _with_table(tmp_path / "it's a store")
    with store.connect(read_only=True) as con:
        assert con.execute("SELECT count(*) FROM t").fetchone() == (0,)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_makes_its_own_instance(tmp_path: Path) -> None:
    store = _with_table(tmp_path / "store")
    parent = instance._host()
    pid = os.fork()
    if pid == 0:  # the child: its own instance, and the parent's is left alone
        try:
            with store.connect() as con:
                con.execute("INSERT INTO t VALUES (1)")
            os._exit(0 if instance._host() is not parent else 3)
        except BaseException:
            os._exit(4)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert instance._host() is parent
    with store.connect(read_only=True) as con:
        assert con.execute("SELECT count(*) FROM t").fetchone() == (1,)


class _FailingDetach:
    """The instance's own connection, with DETACH failing once (a disk full while it
    checkpoints)."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con, self.failed = con, False

    def execute(self, sql: str) -> duckdb.DuckDBPyConnection:
        if sql.startswith("DETACH") and not self.failed:
            self.failed = True
            raise duckdb.IOException("IO Error: No space left on device")
        return self.con.execute(sql)

    def cursor(self) -> duckdb.DuckDBPyConnection:
        return self.con.cursor()


def test_a_failed_detach_leaves_the_file_usable_by_the_next_unit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _with_table(tmp_path / "store")
    host = instance._host()
    monkeypatch.setattr(host, "con", _FailingDetach(host.con))
    with pytest.raises(duckdb.IOException), store.connect(read_only=True) as con:
        con.execute("SELECT count(*) FROM t").fetchone()
    assert _attached(store)  # still attached, read-only, unused
    with store.connect() as con:  # a write: the stale read-only attachment is replaced
        con.execute("INSERT INTO t VALUES (1)")
    assert not _attached(store)
    assert _other_process_writes(store) == "opened"
