"""What a metric's code must give back, checked where it gives it, so a misbehaving metric
(usually a plugin) is stopped with its name and the broken promise, before anything it made
is stored: a batch of distances is a torch Tensor of shape (B,) (with a gradient when
training), a tile is finite, and the direction and symmetry the spec declares hold on a
small sample of the first images it is given."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from percmusic_cli.errors import DataError, PercmusicError, UsageError

if TYPE_CHECKING:
    from torch import Tensor

    from percmusic_cli.metrics.registry import MetricSpec

T = TypeVar("T")

# Images of the sample the declared direction and symmetry are checked on.
SAMPLE = 4
# Relative tolerance of those checks: float32 metrics differ in their last bits by order.
TOLERANCE = 1e-5


def guarded(spec: MetricSpec, what: str, fn: Callable[..., T], *args: Any) -> T:
    """fn(*args); a plugin's own exception becomes one UsageError naming it (a built-in's
    propagates: it is our bug, and --debug should show where)."""
    if not spec.is_plugin:
        return fn(*args)
    try:
        return fn(*args)
    except PercmusicError:
        raise
    except (Exception, SystemExit) as exc:  # third-party code: any failure is the plugin's
        text = str(exc).strip().splitlines()
        reason = type(exc).__name__ + (f": {text[0]}" if text else "")
        raise UsageError(f"metric plugin {spec.name!r} failed {what}: {reason}") from exc


def check_batch(spec: MetricSpec, d: object, n: int, need_grad: bool = False) -> Tensor:
    """`d`, the distances of n pairs, if it is a (n,) Tensor (with a gradient when
    `need_grad`); else a UsageError naming the metric and what it returned."""
    import torch

    if not isinstance(d, torch.Tensor):
        raise UsageError(
            f"metric {spec.name!r} returned a {type(d).__name__} for a batch of {n} pairs, "
            f"expected a torch Tensor of shape ({n},)"
        )
    if tuple(d.shape) != (n,):
        raise UsageError(
            f"metric {spec.name!r} returned shape {tuple(d.shape)} for a batch of {n} pairs, "
            f"expected ({n},)"
        )
    if need_grad and not d.requires_grad:
        raise UsageError(
            f"metric {spec.name!r} returned distances without a gradient, so it cannot be a "
            "training loss (compute it with differentiable torch operations)"
        )
    return d


def check_finite_tile(spec: MetricSpec, block: np.ndarray, r: slice, c: slice) -> np.ndarray:
    """`block` if every distance in it is finite; else a DataError naming the metric (the
    tile is not stored, so a rerun computes it again)."""
    finite = np.isfinite(block)
    if finite.all():
        return block
    i, j = np.argwhere(~finite)[0]
    raise DataError(
        f"metric {spec.name!r} gave a non-finite distance ({block[i, j]}) between rows "
        f"{(r.start or 0) + int(i)} and {(c.start or 0) + int(j)} ({int((~finite).sum())} of "
        f"{block.size} in a tile): nothing of this matrix is stored"
    )


def check_declared(spec: MetricSpec, settings: Any, images: np.ndarray) -> None:
    """The spec's declared direction and symmetry, on pairs of the first SAMPLE images:
    d(x, x) is the closest (as a distance: lowest after a similarity's negation), and a
    metric declared symmetric gives d(x, y) == d(y, x)."""
    import torch

    n = min(SAMPLE, len(images))
    if n < 2:
        return
    x = torch.from_numpy(np.ascontiguousarray(images[:n], dtype=np.float32))[:, None]
    ia, ib = np.triu_indices(n, k=1)
    with torch.no_grad():
        ab = _values(spec, settings, x[ia], x[ib])
        ba = _values(spec, settings, x[ib], x[ia])
        self_d = _values(spec, settings, x, x)
    every = np.concatenate([ab, ba, self_d])
    if not np.isfinite(every).all():
        raise DataError(
            f"metric {spec.name!r} gave a non-finite distance ({every[~np.isfinite(every)][0]}) "
            "on the first images: nothing of this matrix is stored"
        )
    scale = TOLERANCE * (1.0 + np.abs(every).max())
    if spec.symmetric and np.abs(ab - ba).max() > scale:
        k = int(np.abs(ab - ba).argmax())
        raise UsageError(
            f"metric {spec.name!r} is declared symmetric, but d(x, y) = {ab[k]:.6g} and "
            f"d(y, x) = {ba[k]:.6g} for images {ia[k]} and {ib[k]}: set symmetric=False in "
            "its spec (its matrices then hold the mean of both orders)"
        )
    closest_other = float(np.minimum(ab, ba).min())
    if self_d.max() > closest_other + scale:
        word = "lower" if spec.lower_is_better else "higher"
        raise UsageError(
            f"metric {spec.name!r} is declared {word} is better, but an image is farther from "
            f"itself ({self_d.max():.6g}) than from another ({closest_other:.6g}): "
            + (
                "a similarity must set lower_is_better=False in its spec"
                if spec.lower_is_better
                else "a distance must leave lower_is_better=True"
            )
        )


def _values(spec: MetricSpec, settings: Any, a: Tensor, b: Tensor) -> np.ndarray:
    d = guarded(spec, "on a sample pair", spec.as_distance, a, b, settings)
    return check_batch(spec, d, len(a)).double().cpu().numpy()
