"""`rm` of feature sets and distance matrices, an `rm` killed midway finished by the same
`rm` or by `check --repair`, and `check` on a non-finite matrix (issues 19 and 20)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fixture_store import MODEL_ID, StoreCopies

from percmusic_cli import api
from percmusic_cli.steps import remove as step
from percmusic_cli.store import Store
from percmusic_cli.store import arrays as a
from percmusic_cli.store import remove as sr
from percmusic_cli.store import tables as t


@pytest.fixture
def store(tmp_path: Path, store_copies: StoreCopies) -> Store:
    return store_copies.copy(tmp_path / "store")


def _rows(store: Store, sql: str) -> list[tuple[object, ...]]:
    with store.connect(read_only=True) as con:
        return con.execute(sql).fetchall()


def _problems(store: Store) -> set[tuple[str, str]]:
    return {(p["kind"], p["path"]) for p in api.check(store)["problems"]}


def test_rm_a_distance_matrix_asks_and_removes_rows_and_file(store: Store) -> None:
    before = _problems(store)
    (dh, path), *_ = _rows(store, "SELECT dist_hash, array_path FROM distance_sets ORDER BY 1")
    seen: list[sr.Removal] = []
    refused = api.remove(store, [str(dh)[:10]], lambda r: seen.append(r) or False)
    assert not refused["removed"] and seen[0].distances == {dh: path}
    assert (store.root / str(path)).is_file()  # refused: nothing gone
    done = api.remove(store, [str(dh)])
    assert done["removed"] and done["distances"] == {dh: path}
    assert not (store.root / str(path)).exists()
    assert _rows(store, f"SELECT * FROM distance_sets WHERE dist_hash = '{dh}'") == []
    assert _rows(store, f"SELECT * FROM arrays WHERE path = '{path}'") == []
    assert _problems(store) == before


def test_rm_a_feature_set_takes_its_matrices(store: Store) -> None:
    before = _problems(store)
    ((fh, fpath),) = _rows(store, "SELECT feature_hash, array_path FROM feature_sets")
    n_dist = len(_rows(store, "SELECT * FROM distance_sets"))
    assert n_dist > 0
    done = api.remove(store, [str(fh)[:8]])
    assert list(done["features"]) == [fh] and len(done["distances"]) == n_dist
    assert _rows(store, "SELECT count(*) FROM distance_sets") == [(0,)]
    assert _rows(store, "SELECT count(*) FROM feature_tracks") == [(0,)]
    assert not (store.root / str(fpath)).exists()
    assert not list((store.root / "arrays").glob("dist-*"))
    # runs are results: kept; the ones that used the feature set say their inputs are gone
    assert {k for k, _ in _problems(store) - before} <= {"inputs_missing"}


def _killed_rm(store: Store, refs: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """An `rm` SIGKILLed after its first transaction (the models marked 'removing')."""

    def die(*args: object) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(sr, "drop_models", die)
        with pytest.raises(KeyboardInterrupt):
            api.remove(store, refs)


@pytest.mark.parametrize("finish", ["same rm", "check --repair"])
def test_an_interrupted_rm_is_flagged_and_finished(
    store: Store, monkeypatch: pytest.MonkeyPatch, finish: str
) -> None:
    ((run_id,), *_) = _rows(store, "SELECT run_id FROM runs ORDER BY 1")
    refs = [str(run_id), MODEL_ID]
    _killed_rm(store, refs, monkeypatch)
    assert _rows(store, "SELECT status FROM models") == [("removing",)]
    assert ("removal_unfinished", MODEL_ID) in _problems(store)
    assert (store.root / step.JOURNAL).is_file()
    if finish == "same rm":
        assert api.remove(store, refs)["removed"]  # the run is already gone: not an error
    else:
        repaired = api.check(store, repair=True)["repaired"]
        assert {"kind": "removed", "path": MODEL_ID} in [
            {k: r[k] for k in ("kind", "path")} for r in repaired
        ]
    assert _rows(store, "SELECT count(*) FROM models") == [(0,)]
    assert not (store.root / step.JOURNAL).exists()
    assert all(k != "removal_unfinished" for k, _ in _problems(store))
    with pytest.raises(Exception, match="no run, model"):
        api.remove(store, ["no-such-id"])  # a typo is still a usage error


def test_check_flags_a_non_finite_distance_matrix(store: Store) -> None:
    ((path,), *_) = _rows(store, "SELECT array_path FROM distance_sets ORDER BY 1")
    matrix = np.load(store.root / str(path))
    matrix[1, 2] = np.nan
    rec = a.write_array(store.root, str(path), matrix, kind="distances")
    with store.connect() as con:
        t.record_array(con, rec)
    found = [p for p in api.check(store)["problems"] if p["kind"] == "array_not_finite"]
    assert [p["path"] for p in found] == [path]
    assert "distance matrix" in found[0]["detail"] and "`percmusic distances`" in found[0]["detail"]
    api.check(store, repair=True)
    assert _rows(store, f"SELECT * FROM distance_sets WHERE array_path = '{path}'") == []
