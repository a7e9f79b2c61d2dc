"""Choosing the compute device once, from `auto|cpu|cuda`."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from percmusic_cli.config import DEVICES, check_device, check_threads
from percmusic_cli.errors import UsageError

DEVICE_CHOICES = DEVICES


def resolve_device(name: str = "auto") -> str:
    """Return "cpu" or "cuda"; "auto" takes CUDA when torch sees a GPU."""
    import torch

    check_device(name)
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise UsageError("--device cuda was asked for, but torch sees no CUDA device")
    return name


def set_threads(threads: int | None) -> None:
    """Limit torch's intra-op threads and numba's parallel loops (None keeps defaults)."""
    if threads is None:
        return
    import numba
    import torch

    check_threads(threads)
    torch.set_num_threads(threads)
    numba.set_num_threads(min(threads, int(numba.config.NUMBA_NUM_THREADS)))  # type: ignore[attr-defined]


@contextlib.contextmanager
def one_thread_per_op(device: str = "cpu") -> Iterator[int]:
    """Run torch CPU operations on one thread each, yielding how many threads torch had:
    the caller runs that many operations side by side instead. With several threads in
    one FFT or long dot product, the library splits it by a thread count it may change
    between runs, and the last bits of the result change with it (seen: log-mel images and
    distance tiles differing between two runs of the same command). CUDA is left alone."""
    import torch

    before = torch.get_num_threads()
    if device != "cpu":
        yield before
        return
    torch.set_num_threads(1)
    try:
        yield before
    finally:
        torch.set_num_threads(before)
