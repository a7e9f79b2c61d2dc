"""Did the model learn? A training run's final loss beside the loss of a trivial model.

The trivial model outputs one constant image whatever its input. For MSE on U(0, 1) noise
the best constant is 0.5 and its loss is the noise variance, 1/12, exactly. For the other
losses (and for spectrogram patches) the baseline is measured at start-up on the first
training batches (the same seeded draws the run trains on): the lowest mean loss over a
grid of constants and the batch mean. A run whose final loss is within 5% of that baseline
learned nothing a constant could not do.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from percmusic_cli.models.losses import LossFn

MSE_UNIFORM = 1.0 / 12.0
# ratio final / baseline at or above this: "did not learn" (within 5% of the baseline).
NOT_LEARNED_RATIO = 0.95
_GRID = tuple(i / 10 for i in range(1, 10))


def constant_baseline(loss_fn: LossFn, batches: list[Tensor]) -> float:
    """Lowest mean loss over `batches` of a constant output (grid 0.1..0.9 and the mean)."""
    mean = float(torch.stack([b.mean() for b in batches]).mean())
    best = float("inf")
    with torch.no_grad():
        for c in (*_GRID, mean):
            value = sum(float(loss_fn(torch.full_like(x, c), x)) for x in batches) / len(batches)
            best = min(best, value)
    return best


def trivial_baseline(
    loss: str, data: str, loss_fn: LossFn, draw: Callable[[], Tensor], n_batches: int = 4
) -> float:
    """The baseline of one run; `draw` yields its first training batches in order."""
    if loss == "mse" and data == "noise":
        return MSE_UNIFORM
    return constant_baseline(loss_fn, [draw() for _ in range(n_batches)])


def final_loss(history: list[tuple[int, float]]) -> float | None:
    """Mean loss over the last tenth of the logged steps (one step's loss is noisy)."""
    if not history:
        return None
    tail = history[-max(1, len(history) // 10) :]
    return sum(v for _, v in tail) / len(tail)


def learning(final: float | None, baseline: float | None) -> dict[str, float | bool | None]:
    """{final_loss, baseline_loss, loss_ratio, learned}; None where either is unknown."""
    if final is None or baseline is None or baseline <= 0:
        return {"final_loss": final, "baseline_loss": baseline, "loss_ratio": None, "learned": None}
    ratio = final / baseline
    return {
        "final_loss": final,
        "baseline_loss": baseline,
        "loss_ratio": ratio,
        "learned": ratio < NOT_LEARNED_RATIO,
    }
