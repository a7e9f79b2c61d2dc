"""What `percmusic check` needs from the database and the array files: every query and
delete it runs, a read of an .npy header (never its data, never a pickle), and a probe
of the writer lock that does not take it."""

from __future__ import annotations

import ast
import errno
import fcntl
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from percmusic_cli.store import tables as t
from percmusic_cli.store.lock import LOCK_NAME

# table -> (key column, the command that recomputes a deleted row)
DERIVED: dict[str, tuple[str, str]] = {
    "feature_sets": ("feature_hash", "percmusic features"),
    "distance_sets": ("dist_hash", "percmusic distances"),
    "latent_sets": ("latent_hash", "percmusic classify"),
}
_NPY_MAGIC = b"\x93NUMPY"


@dataclass(frozen=True)
class DerivedRow:
    table: str
    key: str
    array_path: str

    @property
    def rerun(self) -> str:
        return DERIVED[self.table][1]


def derived_rows(con: t.Con) -> list[DerivedRow]:
    """Every feature, distance and latent set with the array file it points to."""
    out: list[DerivedRow] = []
    for table, (key, _) in DERIVED.items():
        rows = con.execute(f"SELECT {key}, array_path FROM {table} ORDER BY {key}").fetchall()
        out += [DerivedRow(table, str(r[0]), str(r[1])) for r in rows]
    return out


def model_rows(con: t.Con) -> list[dict[str, Any]]:
    return t.query(
        con,
        "SELECT model_id, checkpoint_dir, status, steps_done, steps_total "
        "FROM models ORDER BY model_id",
    )


def runs_missing_features(con: t.Con) -> list[dict[str, Any]]:
    """Runs whose feature set row is gone: their results stay, their inputs do not."""
    return t.query(
        con,
        "SELECT r.run_id, r.feature_hash FROM runs r WHERE r.feature_hash IS "
        "NOT NULL AND r.feature_hash NOT IN (SELECT feature_hash FROM feature_sets) "
        "ORDER BY r.run_id",
    )


def counts(con: t.Con) -> dict[str, int]:
    names = ("arrays", *DERIVED, "models", "runs")
    return {n: int(t.query(con, f"SELECT count(*) AS n FROM {n}")[0]["n"]) for n in names}


def forget_array(con: t.Con, path: str) -> list[DerivedRow]:
    """Delete the arrays row of `path` and every derived row pointing to it, in one
    transaction, so the next command recomputes them. Returns the derived rows deleted."""
    gone = [d for d in derived_rows(con) if d.array_path == path]
    con.execute("BEGIN TRANSACTION")
    for d in gone:
        if d.table == "feature_sets":
            con.execute("DELETE FROM feature_tracks WHERE feature_hash = ?", [d.key])
        con.execute(f"DELETE FROM {d.table} WHERE {DERIVED[d.table][0]} = ?", [d.key])
    con.execute("DELETE FROM arrays WHERE path = ?", [path])
    con.execute("COMMIT")
    return gone


def mark_stopped_trainings(con: t.Con) -> list[str]:
    """Models still 'training' when no writer runs (the caller holds the writer lock): their
    process was stopped. Mark them 'interrupted'; `train` resumes them from the checkpoint."""
    rows = con.execute(
        "UPDATE models SET status = 'interrupted', updated_at = now() "
        "WHERE status = 'training' RETURNING model_id"
    ).fetchall()
    return sorted(str(r[0]) for r in rows)


def mark_model_broken(con: t.Con, model_id: str) -> None:
    """A model whose checkpoint was refused: `train` starts it again instead of reusing it."""
    con.execute(
        "UPDATE models SET status = 'broken', steps_done = 0, updated_at = now() "
        "WHERE model_id = ?",
        [model_id],
    )


def npy_header(path: Path) -> tuple[tuple[int, ...], str]:
    """Shape and dtype from an .npy header, parsed as a literal (no pickle, no data read).
    Raises ValueError when the file is not an .npy file or holds Python objects."""
    shape, dtype, _ = npy_layout(path)
    return shape, dtype


def npy_layout(path: Path) -> tuple[tuple[int, ...], str, int]:
    """npy_header's shape and dtype, and the offset where the data starts."""
    with open(path, "rb") as fh:
        magic = fh.read(8)
        if len(magic) < 8 or not magic.startswith(_NPY_MAGIC):
            raise ValueError("not an .npy file")
        size_bytes = 2 if magic[6] == 1 else 4
        header_len = int.from_bytes(fh.read(size_bytes), "little")
        if header_len > 1 << 16:
            raise ValueError("implausible .npy header length")
        text = fh.read(header_len).decode("latin1")
        offset = fh.tell()
    try:
        doc = ast.literal_eval(text)
        dtype = np.dtype(doc["descr"])
        shape = tuple(int(s) for s in doc["shape"])
    except (ValueError, SyntaxError, KeyError, TypeError) as exc:
        raise ValueError(f"unreadable .npy header ({exc})") from exc
    if dtype.hasobject:
        raise ValueError("it holds Python objects (a pickle), which are never loaded")
    return shape, str(dtype), offset


def schema_less(db_path: Path) -> bool:
    """True when the database file holds no schema_migrations table: created, then the
    command was killed before its first migration committed."""
    if not db_path.is_file():
        return False
    import duckdb

    from percmusic_cli.store import instance

    try:
        con = instance.open_file(db_path, read_only=True)
    except duckdb.Error:
        return False  # opening it again reports why, in one line
    try:
        n = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_migrations' "
            "AND table_catalog = current_database()"
        ).fetchone()
        if not n or not n[0]:
            return True
        row = con.execute("SELECT count(*) FROM schema_migrations").fetchone()
        return not row or not row[0]
    finally:
        instance.close_file(db_path, con)


def writer_holder(root: Path) -> str | None:
    """Who holds the writer lock right now ("PID ... (command)"), or None. Takes a shared
    lock for an instant only, so it never blocks and never records itself as the holder."""
    path = root / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
            return None
        text = os.read(fd, 200).decode("utf-8", "replace").strip()
        return text or "another process"
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
