"""The order in which pytest-xdist hands files to its workers (tests/conftest.py)."""

# The longest files, run first: with `--dist loadfile` a long file handed out last kept one
# worker busy about 10 s after the other had finished (fast suite; more in `make test`).
# Slow files first (`make test`: 25-100 s each, --durations 2026-12-06), then the fast
# suite's longest (summed --durations). Only the order changes; other files run after.
LONGEST_FIRST = (
    "tests/integration/test_attacks20.py",
    "tests/unit/test_msssim_kernel_bits.py",
    "tests/integration/test_faults.py",
    "tests/integration/test_dask.py",
    "tests/integration/test_metric_plugins.py",
    "tests/unit/test_hardening_core.py",
    "tests/integration/test_demo.py",
    "tests/unit/test_bench_gpu.py",
    "tests/tui/test_tui_snapshots.py",
    "tests/tui/test_tui_hostile.py",
    "tests/integration/test_scheduler_faults.py",
    "tests/tui/test_tui_app.py",
    "tests/unit/test_figure_labels.py",
    "tests/unit/test_train.py",
    "tests/unit/test_models.py",
    "tests/tui/test_tui_small.py",
)
