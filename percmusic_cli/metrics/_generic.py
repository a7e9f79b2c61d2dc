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

from percmusic_cli.errors import UsageError
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
    set evaluates each unordered pair once and leaves the diagonal at 0."""
    ri = np.arange(rows.images.shape[0])[r]
    ci = np.arange(cols.images.shape[0])[c]
    out = np.zeros((len(ri), len(ci)), dtype=np.float64)
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
            d = rows.spec.as_distance(rows.images[a], cols.images[b], rows.settings)
            if d.shape != a.shape:
                raise UsageError(
                    f"metric {rows.spec.name!r} returned shape {tuple(d.shape)} for a batch "
                    f"of {a.shape[0]} pairs, expected ({a.shape[0]},)"
                )
            out[i : i + a.shape[0]] = d.double().cpu().numpy()
    return out
