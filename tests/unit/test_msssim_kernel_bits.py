"""The MS-SSIM numba kernel gives the same bits whether freshly compiled or loaded from numba's
cache, and at any thread count: a resumed distance matrix must equal an uninterrupted one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = """
import hashlib, sys
import numba, numpy as np
from percmusic_cli.config import MsssimConfig
from percmusic_cli.metrics._msssim_state import msssim_tile, prepare_msssim
rng = np.random.default_rng(0)
images = rng.random((5, 97, 130), dtype=np.float32)
numba.set_num_threads(int(sys.argv[1]))
digest = hashlib.sha256()
for cfg in (MsssimConfig(), MsssimConfig(win_size=5, weights=(0.2, 0.3, 0.5))):
    state = prepare_msssim(images, cfg, "cpu")
    digest.update(msssim_tile(state, state, slice(0, 5), slice(0, 5)).tobytes())
print(digest.hexdigest())
"""


def _run(cache: Path, threads: int, features: str | None = None) -> str:
    env = {**os.environ, "PERCMUSIC_CACHE": str(cache)}
    env.pop("NUMBA_CACHE_DIR", None)
    env.pop("NUMBA_CPU_FEATURES", None)
    if features is not None:
        env["NUMBA_CPU_FEATURES"] = features
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(threads)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip().splitlines()[-1]


@pytest.mark.slow
def test_fresh_and_cached_compiles_give_the_same_bits(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    fresh = _run(cache, 2)
    assert list((cache / "numba").rglob("*_msssim_numba*.nbi")), "kernel was not cached"
    cached = _run(cache, 2)
    one_thread = _run(cache, 1)
    assert len(fresh) == 64
    assert fresh == cached == one_thread
    # The host's own features keep LLVM's 256-bit preference; the package drops it on AVX-512
    # CPUs (metrics/_simd.py). The vector width must not change a bit.
    import llvmlite.binding as llvm

    llvm.initialize_native_target()
    assert _run(cache, 2, llvm.get_host_cpu_features().flatten()) == fresh
