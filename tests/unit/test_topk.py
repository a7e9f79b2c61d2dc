"""Streamed top-k equals the dense path's neighbours and votes, ties included; sizes and
scheduler names are checked before anything runs."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from percmusic_cli.errors import DataError, UsageError
from percmusic_cli.execution import backends as scheduler
from percmusic_cli.execution import memory
from percmusic_cli.experiments.knn import nearest, predict_all_k, vote
from percmusic_cli.experiments.topk import TopK, merge


@pytest.mark.parametrize("width", [1, 3, 7, 50])
def test_streamed_topk_equals_stable_sort_with_ties(width: int) -> None:
    rng = np.random.default_rng(width)
    d = rng.integers(0, 4, size=(9, 23)).astype(np.float64)  # many equal distances
    k = 6
    acc = TopK(9, k)
    for c0 in range(0, d.shape[1], width):
        for r0 in range(0, 9, 4):
            r = slice(r0, min(r0 + 4, 9))
            acc.push(r, d[r, c0 : c0 + width], c0)
    idx, dist = acc.result()
    want_idx, want_dist = nearest(d, k)
    assert np.array_equal(idx, want_idx) and np.array_equal(dist, want_dist)
    codes = rng.integers(0, 3, size=23)
    assert np.array_equal(
        vote(idx, dist, codes, 3, "uniform"), predict_all_k(d, codes, 3, k, "uniform")[0]
    )


def test_merge_of_two_blocks_equals_the_stacked_block() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 3, (5, 8)).astype(float), rng.integers(0, 3, (5, 4)).astype(float)
    ia, da = nearest(a, 5)
    ib, db = nearest(b, 4)
    idx, dist = merge(ia, da, ib + 8, db, 5)
    want = nearest(np.hstack([a, b]), 5)
    assert np.array_equal(idx, want[0]) and np.array_equal(dist, want[1])


def test_topk_refuses_non_finite_tiles_and_too_few_columns() -> None:
    acc = TopK(2, 3)
    with pytest.raises(DataError, match="NaN"):
        acc.push(slice(0, 2), np.array([[0.1, np.nan], [0.2, 0.3]]), 0)
    acc = TopK(1, 3)
    acc.push(slice(0, 1), np.array([[0.1, 0.2]]), 0)
    with pytest.raises(DataError, match="fewer than k=3"):
        acc.result()


def test_memory_sizes() -> None:
    assert memory.parse_size("2GB") == 2 * 1024**3
    assert memory.parse_size("1.5 mb") == int(1.5 * 1024**2)
    assert memory.parse_size("4096") == 4096
    for bad in ("lots", "0", "-1GB", "2XB"):
        with pytest.raises(UsageError, match="--memory-budget"):
            memory.parse_size(bad)


def test_scheduler_names(tmp_path: Path) -> None:
    assert scheduler.parse("local").describe() == "local"
    assert scheduler.parse(None).describe() == "local"
    assert scheduler.parse("tcp://10.0.0.5:8786").describe() == "address tcp://10.0.0.5:8786"
    with pytest.raises(UsageError, match="choose local, dask"):
        scheduler.parse("cluster-please")
    with pytest.raises(UsageError, match="no such scheduler file"):
        scheduler.parse("missing-scheduler.json")
    garbage = tmp_path / "scheduler.json"
    garbage.write_bytes(b"\x00\xffnot json")
    for bad, why in (
        ("tcp://h:notaport", "not a scheduler address"),
        ("foo://x", "not a scheduler address"),
        ("tcp://h:70000", "not a scheduler address"),
        (str(garbage), "not a Dask scheduler file"),
    ):
        with pytest.raises(UsageError, match=why):
            scheduler.parse(bad)


def test_without_the_extra_dask_is_a_usage_error_naming_the_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import fails as if not installed
    with pytest.raises(UsageError, match=r"pip install 'percmusic\[dask\]'"):
        scheduler.parse("dask")
    assert scheduler.parse("local").describe() == "local"


def test_cli_bad_scheduler_and_budget_are_one_line_usage_errors(cli: Any) -> None:
    for args, word in (
        (("--scheduler", "bogus", "status"), "--scheduler 'bogus'"),
        (("--scheduler", "tcp://h:notaport", "train"), "--scheduler 'tcp://h:notaport'"),
        (("--scheduler", "foo://x", "train", "--loss", "mse"), "--scheduler 'foo://x'"),
        (("--memory-budget", "lots", "status"), "--memory-budget 'lots'"),
    ):
        result = cli(*args)
        assert result.exit_code == 1, result.output
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert len(lines) == 1 and word in lines[0]


def test_a_worker_that_cannot_see_the_store_says_so(tmp_path: Path) -> None:
    from percmusic_cli.steps.tile_tasks import open_features

    with pytest.raises(DataError, match=r"cannot see the store: .*features-x\.npy is missing"):
        open_features(str(tmp_path / "elsewhere"), "arrays/features-x.npy")
