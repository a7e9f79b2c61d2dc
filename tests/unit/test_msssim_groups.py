"""Pairs run through the MS-SSIM kernel in groups: runs sharing their first image (a pair
list) or blocks of first x second images (a tile). The grouping must change no bit, a run
never spans two first images, and a tile's blocks hold each of its pairs exactly once."""

from __future__ import annotations

import hashlib
import itertools

import numpy as np
import pytest

from percmusic_cli.config import MsssimConfig
from percmusic_cli.metrics import _msssim_state
from percmusic_cli.metrics._msssim_state import (
    MsssimState,
    block_pairs,
    msssim_pairs_values,
    msssim_tile,
    pair_groups,
    prepare_msssim,
)


@pytest.fixture(scope="module")
def state() -> MsssimState:
    rng = np.random.default_rng(1)
    images = rng.random((11, 97, 131), dtype=np.float32)  # odd output row counts: 91, 43, 19
    return prepare_msssim(images, MsssimConfig(), "cpu")


def test_groups_are_runs_of_one_first_image_capped_at_size() -> None:
    ia = np.array([3, 3, 3, 3, 3, 1, 1, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2])
    assert pair_groups(ia, 4).tolist() == [0, 4, 5, 7, 8, 12, 16, 17]
    assert pair_groups(ia, 1).tolist() == list(range(len(ia) + 1))
    assert pair_groups(np.empty(0, dtype=np.int64), 4).tolist() == [0]


def test_rectangular_blocks_cover_the_tile_once_block_by_block() -> None:
    i, j, starts = block_pairs(5, 7, (2, 3), upper=False)
    assert sorted(zip(i.tolist(), j.tolist(), strict=True)) == [
        (r, c) for r in range(5) for c in range(7)
    ]
    # 3 block rows x 3 block columns; the last row and column of blocks are partial
    sizes = np.diff(starts).tolist()
    assert sizes == [6, 6, 2, 6, 6, 2, 3, 3, 1]
    first = list(zip(i[: starts[1]].tolist(), j[: starts[1]].tolist(), strict=True))
    assert first == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]  # row by row
    for s0, s1 in itertools.pairwise(starts):
        assert len(set((i[s0:s1] // 2).tolist())) == 1
        assert len(set((j[s0:s1] // 3).tolist())) == 1


def test_diagonal_blocks_hold_only_the_upper_triangle() -> None:
    i, j, starts = block_pairs(6, 6, (4, 4), upper=True)
    assert sorted(zip(i.tolist(), j.tolist(), strict=True)) == [
        (r, c) for r in range(6) for c in range(r + 1, 6)
    ]
    # blocks (0, 0): 6 pairs above the diagonal, (0, 1): 4 x 2 full, (1, 1): one pair;
    # (1, 0) holds none and is dropped
    assert np.diff(starts).tolist() == [6, 8, 1]
    assert block_pairs(1, 1, (4, 4), upper=True)[2].tolist() == [0]


def test_grouped_pairs_give_the_bits_of_single_pairs(
    state: MsssimState, monkeypatch: pytest.MonkeyPatch
) -> None:
    ia = np.repeat(np.arange(5), 5)
    ib = np.tile(np.arange(5), 5)
    grouped = msssim_pairs_values(state, state, ia, ib)
    monkeypatch.setattr(_msssim_state, "_PAIR_GROUP", 1)
    single = msssim_pairs_values(state, state, ia, ib)
    assert np.array_equal(grouped, single)
    assert np.all(grouped.reshape(5, 5).diagonal() < 1e-6)
    assert grouped.max() > 0.1


@pytest.mark.parametrize("block", [(4, 4), (3, 2), (2, 5)])
def test_blocked_tiles_give_the_bits_of_single_pairs(
    state: MsssimState, monkeypatch: pytest.MonkeyPatch, block: tuple[int, int]
) -> None:
    """A diagonal tile of 11 (partly masked blocks on the diagonal) and a rectangular 5 x 6
    tile, neither side a multiple of the block, against one pair per group."""
    diag, rect = slice(0, 11), (slice(0, 5), slice(5, 11))
    monkeypatch.setattr(_msssim_state, "_BLOCK", block)
    blocked_diag = msssim_tile(state, state, diag, diag)
    blocked_rect = msssim_tile(state, state, *rect)
    monkeypatch.setattr(_msssim_state, "_BLOCK", (1, 1))
    single_diag = msssim_tile(state, state, diag, diag)
    single_rect = msssim_tile(state, state, *rect)
    assert np.array_equal(blocked_diag, single_diag)
    assert np.array_equal(blocked_rect, single_rect)
    assert np.array_equal(blocked_diag, blocked_diag.T)
    assert np.all(blocked_diag.diagonal() == 0.0)
    assert np.array_equal(blocked_rect, blocked_diag[rect])
    assert blocked_rect.min() > 0.1


def test_blocked_tile_equals_the_pair_list_path(state: MsssimState) -> None:
    """The tile's blocks and msssim_pairs_values' runs of one first image agree bit for bit."""
    ri, ci = np.arange(2, 9), np.arange(3, 11)
    tile = msssim_tile(state, state, slice(2, 9), slice(3, 11))
    pairs = msssim_pairs_values(state, state, np.repeat(ri, len(ci)), np.tile(ci, len(ri)))
    assert np.array_equal(tile, pairs.reshape(len(ri), len(ci)))


@pytest.mark.parametrize(
    ("config", "digest"),
    [
        (MsssimConfig(), "28167fc62391b4679445d6bedf6f9e0588618d3767d0c55c948e6dc87bfa37c3"),
        (
            MsssimConfig(win_size=5, weights=(0.2, 0.3, 0.5)),
            "ac222d0f59e8fcd03141827ec28771c6381bae7249743cdb07abe8e1d4a5aaec",
        ),
    ],
)
def test_tiles_keep_the_bits_of_the_kernel_before_blocks(config: MsssimConfig, digest: str) -> None:
    """Stored matrices computed before tiles ran in blocks must resume bit for bit: the
    digests are of the same matrices from commit 6eb2dc8's kernel (runs of 16 pairs sharing
    their first image), taken with benchmarks/msssim_blocks.py's old_kernel."""
    rng = np.random.default_rng(3)
    common = rng.random((97, 131), dtype=np.float32)
    images = (0.6 * common + 0.4 * rng.random((9, 97, 131), dtype=np.float32)).astype(np.float32)
    state = prepare_msssim(images, config, "cpu")
    tile = msssim_tile(state, state, slice(0, 9), slice(0, 9))
    assert 0.2 < tile[tile > 0].min() < tile.max() < 0.3
    assert hashlib.sha256(tile.tobytes()).hexdigest() == digest
