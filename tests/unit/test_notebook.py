"""A notebook reads the store with its own DuckDB connection while calling the API
(issue 19 item 10): "Can't open a connection ... with a different configuration"."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from trees import SR, tone_clip, write_wav

from percmusic_cli import api
from percmusic_cli.errors import StoreError
from percmusic_cli.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    for label, freq in (("a", 220.0), ("b", 660.0)):
        for i in range(3):
            write_wav(tmp_path / "d" / label / f"{label}{i}.wav", tone_clip(freq, 0.5, seed=i), SR)
    store = api.open_store(tmp_path / "store")
    api.ingest(store, tmp_path / "d")
    return store


def test_plain_read_only_connection_then_api_reads(store: Store) -> None:
    mine = duckdb.connect(str(store.db_path), read_only=True)  # the notebook's own
    try:
        assert api.status(store)["datasets"][0]["name"] == "d"
        assert [r["track_id"] for r in api.browse_tracks(store)][:1] == ["a/a0"]
        with pytest.raises(StoreError, match=r"api\.connect\(store\)"):
            api.split(store, "d", "random", ratios="0.5,0,0.5")  # a write: one line
        assert mine.execute("SELECT count(*) FROM tracks").fetchone() == (6,)
    finally:
        mine.close()
    assert api.split(store, "d", "random", ratios="0.5,0,0.5").counts  # closed: writes work


def test_api_connect_reads_beside_the_api(store: Store) -> None:
    con = api.connect(store)
    try:
        assert con.execute("SELECT count(*) FROM tracks").fetchone() == (6,)
        assert api.datasets(store) == ["d"]
        with pytest.raises(duckdb.Error):
            con.execute("DELETE FROM tracks")  # read-only
    finally:
        con.close()


def test_api_connect_on_a_missing_store_says_so(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="no store at"):
        api.connect(api.open_store(tmp_path / "nope"))
