"""One in-memory DuckDB instance per process; a unit of work attaches the store's file to it
and detaches it after.

Making a DuckDB instance (what `duckdb.connect(path)` does when the file is not open yet)
costs 20-30 ms with DuckDB 2.0, which builds its catalog of built-in functions every time:
more than most units of work on a small store, and a command opens one to ten of them.
Attaching a file to a live instance costs 2-8 ms. Detaching closes the file and releases
its lock exactly as closing the last connection did, so other processes still get in
between units of work (the store's cross-process design is unchanged).

Several units of work in one process (threads, or one inside another) share one attachment,
counted; the last to finish detaches it. A write while only reads hold the file waits for
them like a writer in another process would (`HeldReadOnly`)."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import duckdb

# Never fetch or load an extension behind the user's back (a SQLite file in place of the
# database would otherwise make DuckDB download its sqlite scanner).
CONNECT_CONFIG: dict[str, str | bool | int | float | list[str]] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}
# DuckDB refuses to attach a file another instance of this process has open (a notebook's
# own `duckdb.connect(path)`); its message starts with this fixed phrase.
OTHER_INSTANCE = "Resource In Use Error: Unique file handle conflict"


class HeldReadOnly(Exception):
    """This process reads the file now; a write has to wait until those reads finish."""


@dataclasses.dataclass
class _File:
    alias: str
    read_only: bool
    users: int = 0


class _Host:
    def __init__(self) -> None:
        self.pid = os.getpid()
        self.con = duckdb.connect(":memory:", config=CONNECT_CONFIG)
        self.lock = threading.Lock()
        self.files: dict[str, _File] = {}
        self.made = 0

    def acquire(self, key: str, read_only: bool) -> duckdb.DuckDBPyConnection:
        """A new connection to the instance whose default database is the file at `key`."""
        with self.lock:
            held = self.files.get(key)
            if held is not None and held.users == 0 and held.read_only and not read_only:
                self._detach(key, held)  # left by a failed DETACH
                held = None
            if held is None:
                self.made += 1
                held = _File(f"store_{self.made}", read_only)
                mode = "READ_ONLY, " if read_only else ""
                # TYPE duckdb: a file of another kind is refused, never handed to an extension.
                self.con.execute(f"ATTACH {_literal(key)} AS {held.alias} ({mode}TYPE duckdb)")
                self.files[key] = held
            elif held.read_only and not read_only:
                raise HeldReadOnly(key)
            held.users += 1
            try:
                # Made under the lock: the instance's own connection is not for two threads.
                con = self.con.cursor()
                con.execute(f"USE {held.alias}")
            except BaseException:
                self._drop(key, held)
                raise
            return con

    def release(self, key: str) -> None:
        with self.lock:
            self._drop(key, self.files[key])

    def _drop(self, key: str, held: _File) -> None:
        held.users -= 1
        if held.users == 0:
            self._detach(key, held)

    def _detach(self, key: str, held: _File) -> None:
        # Should DETACH fail (a disk full while it checkpoints), the entry stays, unused,
        # and the next unit of work on this file uses that attachment.
        self.con.execute(f"DETACH {held.alias}")
        del self.files[key]


_HOST: _Host | None = None
_HOST_LOCK = threading.Lock()


def _host() -> _Host:
    """This process's instance; a forked child makes its own (the parent's threads are gone)."""
    global _HOST
    with _HOST_LOCK:
        if _HOST is None or _HOST.pid != os.getpid():
            _HOST = _Host()
        return _HOST


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _key(path: Path) -> str:
    return os.path.abspath(path)


def open_file(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    """A connection whose default database is the file at `path`; give it back with
    `close_file`. Raises DuckDB's own errors (lock conflicts, damaged files) as they are."""
    return _host().acquire(_key(path), read_only)


def close_file(path: Path, con: duckdb.DuckDBPyConnection) -> None:
    con.close()
    _host().release(_key(path))


@contextlib.contextmanager
def attached(path: Path, read_only: bool) -> Iterator[duckdb.DuckDBPyConnection]:
    con = open_file(path, read_only)
    try:
        yield con
    finally:
        close_file(path, con)
