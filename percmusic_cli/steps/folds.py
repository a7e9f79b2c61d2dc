"""Fold views: the active split's tracks (all but excluded) cut into K stratified folds,
each fold's test part one K-th, its train part the rest (no valid part: k and C are then
chosen by cross-validation on train). Views only: nothing is written to the splits table;
the runs record the fold in their split name."""

from __future__ import annotations

import dataclasses

import numpy as np

from percmusic_cli.experiments.folds import kfold_test_masks
from percmusic_cli.steps.views import SplitView


def fold_views(view: SplitView, k: int, seed: int) -> list[SplitView]:
    rows = view.rows["all"]
    masks = kfold_test_masks([view.labels[i] for i in rows], k, seed)
    empty = np.zeros(0, dtype=np.int64)
    out = []
    for i, mask in enumerate(masks, start=1):
        parts = {"train": rows[~mask], "valid": empty, "test": rows[mask], "all": rows}
        out.append(
            dataclasses.replace(view, split=f"{view.split}/fold{i}of{k}-s{seed}", rows=parts)
        )
    return out
