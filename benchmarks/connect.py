"""Cost of one unit of work's connection to the store: a DuckDB instance per unit (a plain
`duckdb.connect(path)`, what the store did before) against attaching the file to this
process's one in-memory instance (`percmusic_cli.store.instance`), side by side in one
process on a migrated store, alternating so drift falls on both alike.

    .venv/bin/python benchmarks/connect.py [--units 200]

Each unit opens, runs one small read (or a read and a one-row insert), and closes; the
figure is the median over --units units, in ms, and the ratio."""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb

from percmusic_cli.store import Store, instance


def _unit(con: duckdb.DuckDBPyConnection, write: bool) -> None:
    con.execute("SELECT count(*) FROM runs").fetchone()
    if write:
        con.execute(
            "INSERT INTO datasets (name, kind, root) VALUES ('d', 'folder', '/x') "
            "ON CONFLICT DO NOTHING"
        )


def _plain(path: Path, write: bool) -> None:
    con = duckdb.connect(str(path), read_only=not write, config=instance.CONNECT_CONFIG)
    try:
        _unit(con, write)
    finally:
        con.close()


def _attached(path: Path, write: bool) -> None:
    with instance.attached(path, read_only=not write) as con:
        _unit(con, write)


def _time(fn: Callable[[Path, bool], None], path: Path, write: bool) -> float:
    start = time.perf_counter()
    fn(path, write)
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=200)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="percmusic-connect-")) / "store"
    store = Store(root)
    with store.writer(), store.connect():
        pass  # created and migrated: the real schema
    print(f"{'unit':<8}{'instance per unit':>20}{'attach':>10}{'ratio':>8}")
    for write in (False, True):
        plain: list[float] = []
        attached: list[float] = []
        for _ in range(args.units):
            plain.append(_time(_plain, store.db_path, write))
            attached.append(_time(_attached, store.db_path, write))
        p, a = statistics.median(plain), statistics.median(attached)
        print(f"{'write' if write else 'read':<8}{p:>17.2f} ms{a:>7.2f} ms{p / a:>7.1f}x")


if __name__ == "__main__":
    main()
