"""The store folder: one DuckDB file, arrays/, checkpoints/, sources/.

Connections are short-lived (one unit of work each) so that a reader can open the
database between a writer's commits. Migrations run when a writer opens the store."""

from __future__ import annotations

import contextlib
import functools
import os
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import duckdb

from percmusic_cli.errors import DataError, StoreError, StoreLockedError, UsageError
from percmusic_cli.store import instance
from percmusic_cli.store.lock import WriterLock
from percmusic_cli.store.schema import LATEST_VERSION, MIGRATIONS
from percmusic_cli.store.sweep import sweep

DB_NAME = "percmusic.duckdb"
ENV_VAR = "PERCMUSIC_STORE"
_PID = re.compile(r"PID (\d+)")
_T = TypeVar("_T")
# DuckDB raises a plain IOException for a lock conflict, with no code; its message starts
# with this fixed phrase. Matched at the start only, since the path that follows is the
# user's and may itself contain "lock".
_LOCK_CONFLICT = "IO Error: Could not set lock on file"
_SQLITE_MAGIC = b"SQLite format 3\x00"
# DuckDB shares one database instance per file in a process, and refuses a second
# connection whose configuration differs; its message starts with this fixed phrase.
_OTHER_CONFIG = "Connection Error: Can't open a connection to same database file with a diff"


def locate(option: str | Path | None = None) -> Path:
    """`--store PATH` > $PERCMUSIC_STORE > ./store."""
    if option is not None:
        return _store_path(str(option), "--store")
    env = os.environ.get(ENV_VAR)
    return _store_path(env, f"${ENV_VAR}") if env else Path("store")


def _store_path(text: str, name: str) -> Path:
    """Refuse an empty path (it would make the current folder the store) and the filesystem
    root (a store there writes /percmusic.duckdb)."""
    if not text.strip():
        raise UsageError(f"{name} {text!r}: empty; give a store folder such as ./store")
    path = Path(text).expanduser()
    resolved = path.resolve()
    if resolved == Path(resolved.anchor):
        raise UsageError(f"{name} {text!r}: the filesystem root cannot be a store folder")
    return path


def is_lock_conflict(exc: BaseException) -> bool:
    return isinstance(exc, duckdb.IOException) and str(exc).startswith(_LOCK_CONFLICT)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _open_problem(path: Path, exc: BaseException) -> str:
    """One line saying why `path` cannot be opened as a store database."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
    except OSError:
        head = b""
    if head == _SQLITE_MAGIC:
        return f"cannot open {path}: it is a SQLite file, not a percmusic (DuckDB) database"
    return (
        f"cannot open {path}: {_first_line(exc)} (the file is damaged or not a DuckDB "
        "database; move it away to start a new store)"
    )


def _work_problem(path: Path, exc: BaseException) -> str:
    text = str(exc)
    if "No space left on device" in text:
        return f"cannot write {path}: No space left on device"
    if "Read-only file system" in text:
        return f"cannot write {path}: Read-only file system"
    return f"store database {path}: {_first_line(exc)}"


def _lock_message(path: Path, exc: Exception) -> str:
    pid = _PID.search(str(exc))
    who = f"PID {pid.group(1)}" if pid else "another process"
    return f"store database {path} is locked by {who}; try again when it finishes"


class Store:
    """Paths and connections for one store root."""

    def __init__(self, root: Path, busy_timeout_s: float = 30.0, create: bool = True) -> None:
        """`create=False`: a command that only reads, or needs existing data; a missing
        folder is then "no store at PATH" (a mistyped --store), and nothing is created."""
        self.root = root
        self.create = create
        self.db_path = root / DB_NAME
        self.arrays_dir = root / "arrays"
        self.checkpoints_dir = root / "checkpoints"
        self.sources_dir = root / "sources"
        self.busy_timeout_s = busy_timeout_s

    def exists(self) -> bool:
        """Whether the database exists. Every read asks this first, so a store that may not
        be created, whose folder is missing, is refused here."""
        if not self.create and not self.root.is_dir():
            raise DataError(
                f"no store at {self.root} (check --store or ${ENV_VAR}; to create one, run "
                "`percmusic ingest` or `percmusic demo`)"
            )
        return self.db_path.is_file()

    def writer(self, wait_s: float = 0.0, command: str = "") -> WriterLock:
        """Create the store if needed (if allowed), migrate it, and hold the writer lock."""
        if not self.create and not self.exists():
            raise DataError(f"store {self.root} is empty: run `percmusic ingest` first")
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create store folder {self.root}: {exc.strerror}") from exc
        return WriterLock(self.root, wait_s=wait_s, command=command, on_acquire=self._on_acquire)

    def _on_acquire(self) -> None:
        """Clean what an earlier kill left, then bring an older store up to this version's
        schema before the command's first read (reads use read-only connections, which
        never migrate, and would miss new columns)."""
        sweep(self.root, DB_NAME)
        if self.exists():
            with self.connect():
                pass

    @contextlib.contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection for one unit of work; waits while another process has the file open."""
        if (read_only or not self.create) and not self.exists():
            raise DataError(f"store {self.root} is empty: run `percmusic ingest` first")
        if not read_only and not self.exists():
            self._create()
        con, close = self._open(read_only)
        try:
            if not read_only:
                migrate(con)
            elif schema_version(con) == 0:
                raise DataError(
                    f"store {self.root} has a database with no tables (a command was killed "
                    "while creating it): run `percmusic ingest`, which sets it up"
                )
            yield con
        except duckdb.Error as exc:
            # A failed write (disk full, I/O error) or a damaged file: one line naming it.
            raise StoreError(_work_problem(self.db_path, exc)) from exc
        finally:
            close()

    def read_connection(self) -> duckdb.DuckDBPyConnection:
        """A long-lived read-only connection for the caller's own SQL (`api.connect`): a
        DuckDB instance of its own, which the caller closes (an attachment to this
        process's shared instance would need giving back)."""
        return self._retry(self._connect_plain, read_only=True)

    def _create(self) -> None:
        """Create and migrate the database under a temporary name, then link it into place,
        so a kill never leaves a database without tables under the real name."""
        tmp = self.root / f".{DB_NAME}.tmp-{os.getpid()}"
        for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
            leftover.unlink(missing_ok=True)
        try:
            with instance.attached(tmp, read_only=False) as con:
                migrate(con)
            # link, not rename: a database another process created meanwhile is kept.
            with contextlib.suppress(FileExistsError):
                os.link(tmp, self.db_path)
        except OSError as exc:
            raise StoreError(f"cannot create {self.db_path}: {exc.strerror or exc}") from exc
        except duckdb.Error as exc:
            raise StoreError(f"cannot create {self.db_path}: {_first_line(exc)}") from exc
        finally:
            tmp.unlink(missing_ok=True)
            tmp.with_name(tmp.name + ".wal").unlink(missing_ok=True)

    def _open(self, read_only: bool) -> tuple[duckdb.DuckDBPyConnection, Callable[[], None]]:
        """A connection for one unit of work and how to give it back."""
        return self._retry(self._attach, read_only)

    def _attach(self, read_only: bool) -> tuple[duckdb.DuckDBPyConnection, Callable[[], None]]:
        try:
            con = instance.open_file(self.db_path, read_only)
        except duckdb.Error as exc:
            if not str(exc).startswith(instance.OTHER_INSTANCE):
                raise
            joined = self._join(read_only)  # the caller's own instance has the file open
            return joined, joined.close
        return con, functools.partial(instance.close_file, self.db_path, con)

    def _connect_plain(self, read_only: bool) -> duckdb.DuckDBPyConnection:
        try:
            config = instance.CONNECT_CONFIG
            return duckdb.connect(str(self.db_path), read_only=read_only, config=config)
        except duckdb.ConnectionException as exc:
            if not str(exc).startswith(_OTHER_CONFIG):
                raise
            return self._join(read_only)

    def _retry(self, open_: Callable[[bool], _T], read_only: bool) -> _T:
        """`open_(read_only)`, waiting while another process (or, for a write, a read in
        this one) has the file open, up to the busy timeout."""
        deadline = time.monotonic() + self.busy_timeout_s
        delay = 0.05
        while True:
            try:
                return open_(read_only)
            except instance.HeldReadOnly:
                if time.monotonic() >= deadline:
                    raise StoreLockedError(
                        f"store database {self.db_path} is being read by this process; "
                        "try again when it finishes"
                    ) from None
            except duckdb.Error as exc:
                if not is_lock_conflict(exc):
                    raise StoreError(_open_problem(self.db_path, exc)) from exc
                if time.monotonic() >= deadline:
                    raise StoreLockedError(_lock_message(self.db_path, exc)) from exc
            time.sleep(delay)
            delay = min(delay * 2, 0.5)

    def _join(self, read_only: bool) -> duckdb.DuckDBPyConnection:
        """This process already holds the file open with another configuration (a notebook's
        `duckdb.connect(path, read_only=True)`): a read joins that instance with its plain
        configuration (the file is already open as a DuckDB database, so nothing is loaded
        behind the user's back); a write cannot, and says what to do."""
        if read_only:
            try:
                return duckdb.connect(str(self.db_path), read_only=True)
            except duckdb.Error:
                pass
        raise StoreError(
            f"{self.db_path} is open in this process with another configuration (your own "
            "duckdb connection): use `percmusic_cli.api.connect(store)` for SQL, and close it "
            "before a command that writes"
        )


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    # Asked on every writing connection: one indexed read, not an information_schema scan.
    try:
        row = con.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()
    except duckdb.CatalogException:
        return 0
    return int(row[0]) if row else 0


def migrate(con: duckdb.DuckDBPyConnection) -> int:
    """Apply every migration newer than the store's version, each in its own transaction."""
    current = schema_version(con)
    if current > LATEST_VERSION:
        raise StoreError(
            f"store schema version {current} is newer than this percmusic ({LATEST_VERSION}): "
            "upgrade percmusic"
        )
    if current == 0:
        con.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
            "description VARCHAR, applied_at TIMESTAMP DEFAULT current_timestamp)"
        )
    for migration in MIGRATIONS:
        if migration.version <= current:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(migration.sql)
            con.execute(
                "INSERT INTO schema_migrations (version, description) VALUES (?, ?)",
                [migration.version, migration.description],
            )
            con.execute("COMMIT")
        except duckdb.Error as exc:
            con.execute("ROLLBACK")
            raise StoreError(f"migration {migration.version} failed: {exc}") from exc
    return LATEST_VERSION
