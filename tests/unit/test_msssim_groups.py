"""Pairs sharing their first image run through the MS-SSIM kernel in groups; the grouping must
change no bit, and a group never spans two first images."""

from __future__ import annotations

import numpy as np
import pytest

from percmusic_cli.config import MsssimConfig
from percmusic_cli.metrics import _msssim_state
from percmusic_cli.metrics._msssim_state import msssim_pairs_values, pair_groups, prepare_msssim


def test_groups_are_runs_of_one_first_image_capped_at_size() -> None:
    ia = np.array([3, 3, 3, 3, 3, 1, 1, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2])
    assert pair_groups(ia, 4).tolist() == [0, 4, 5, 7, 8, 12, 16, 17]
    assert pair_groups(ia, 1).tolist() == list(range(len(ia) + 1))
    assert pair_groups(np.empty(0, dtype=np.int64), 4).tolist() == [0]


def test_grouped_pairs_give_the_bits_of_single_pairs(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(1)
    images = rng.random((5, 97, 131), dtype=np.float32)  # odd output row counts: 91, 43, 19
    state = prepare_msssim(images, MsssimConfig(), "cpu")
    ia = np.repeat(np.arange(5), 5)
    ib = np.tile(np.arange(5), 5)
    grouped = msssim_pairs_values(state, state, ia, ib)
    monkeypatch.setattr(_msssim_state, "_PAIR_GROUP", 1)
    single = msssim_pairs_values(state, state, ia, ib)
    assert np.array_equal(grouped, single)
    assert np.all(grouped.reshape(5, 5).diagonal() < 1e-6)
    assert grouped.max() > 0.1
