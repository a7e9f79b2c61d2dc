"""512-bit vectors for numba's kernels on CPUs that have them.

LLVM tunes AVX-512 CPUs (Skylake-X to Emerald Rapids) to prefer 256-bit vectors
("prefer-256-bit", chosen for clock throttling on early models). The MS-SSIM kernel ran
1.35-1.47x faster per pair with 512-bit vectors (benchmarks/RESULTS.md). Its loops are
element-wise with explicit fused multiply-adds and the other kernels do not reassociate, so
the vector width changes no bit (RESULTS.md: equal hashes at both widths); numba's cache
keys include the feature string, so the two widths never share a cached copy."""

from __future__ import annotations

import os


def allow_wide_vectors() -> None:
    """Drop prefer-256-bit from numba's target features when the CPU has AVX-512.

    Takes effect only before numba's CPU target compiles or loads its first function in
    this process; called later it leaves 256-bit code, which gives the same bits, slower.
    A NUMBA_CPU_FEATURES the user exported wins."""
    if os.environ.get("NUMBA_CPU_FEATURES"):
        return
    import llvmlite.binding as llvm
    from numba.core import config

    # numba's config sets its attributes from the environment at run time (mypy sees none).
    if getattr(config, "CPU_FEATURES", None) is not None:
        return
    features = llvm.get_host_cpu_features().flatten()
    if "+avx512f" in features.split(","):
        setattr(config, "CPU_FEATURES", features + ",-prefer-256-bit")  # noqa: B010
