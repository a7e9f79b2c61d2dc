"""The generic pairwise path for a metric that gives only its differentiable batched
function: the images are the prepared state, and a tile evaluates the function on batches
of (row, column) pairs. Slower than a metric's own path (nothing is shared between pairs),
but exact, tiled and resumable like it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from percmusic_cli.metrics._contract import check_batch, guarded
from percmusic_cli.metrics.registry import MetricSpec

# Pairs per call of the metric's function: bounds memory to a few image batches.
PAIR_BATCH = 64


@dataclass(frozen=True)
class GenericState:
    """Images (N, 1, H, W) in float64 on the engine's device, and how to compare them."""

    images: Tensor
    spec: MetricSpec
    settings: Any


def prepare(spec: MetricSpec, images: np.ndarray, settings: Any, device: str) -> GenericState:
    x = torch.from_numpy(images).to(device=device, dtype=torch.float64)[:, None]
    return GenericState(x, spec, settings)


def tile(rows: GenericState, cols: GenericState, r: slice, c: slice) -> np.ndarray:
    """Distances between rows[r] and cols[c]: float64 (len r, len c). A diagonal block of one
    set evaluates each unordered pair once and leaves the diagonal at 0. An asymmetric
    metric (spec.symmetric False) gives the mean of both orders, so every block, and its
    transpose, agrees whichever way it was computed."""
    ri = np.arange(rows.images.shape[0])[r]
    ci = np.arange(cols.images.shape[0])[c]
    out = np.zeros((len(ri), len(ci)), dtype=np.float64)
    if not rows.spec.symmetric:
        ia, ib = np.repeat(ri, len(ci)), np.tile(ci, len(ri))
        there = _pairs(rows, cols, ia, ib).reshape(len(ri), len(ci))
        back = _pairs(cols, rows, ib, ia).reshape(len(ri), len(ci))
        out = (there + back) / 2
        if rows is cols and r == c:
            np.fill_diagonal(out, 0.0)
        return out
    if rows is cols and r == c:
        iu, ju = np.triu_indices(len(ri), k=1)
        vals = _pairs(rows, cols, ri[iu], ci[ju])
        out[iu, ju] = vals
        out[ju, iu] = vals
        return out
    ia, ib = np.repeat(ri, len(ci)), np.tile(ci, len(ri))
    return _pairs(rows, cols, ia, ib).reshape(len(ri), len(ci))


def _pairs(rows: GenericState, cols: GenericState, ia: np.ndarray, ib: np.ndarray) -> np.ndarray:
    out = np.empty(ia.shape[0], dtype=np.float64)
    device = rows.images.device
    with torch.no_grad():
        for i in range(0, ia.shape[0], PAIR_BATCH):
            a = torch.from_numpy(ia[i : i + PAIR_BATCH]).to(device)
            b = torch.from_numpy(ib[i : i + PAIR_BATCH]).to(device)
            spec = rows.spec
            d = guarded(spec, "on a batch", spec.as_distance, rows.images[a], cols.images[b],
                        rows.settings)  # fmt: skip
            out[i : i + a.shape[0]] = check_batch(spec, d, a.shape[0]).double().cpu().numpy()
    return out
