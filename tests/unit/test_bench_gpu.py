"""benchmarks/gpu.py: says so without a GPU; its checks and table work on CPU (--device cpu)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "benchmarks" / "gpu.py"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=900
    )


@pytest.mark.slow  # ~13 s under load: the torch import
@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is present")
def test_without_a_gpu_it_says_so_and_exits_0() -> None:
    out = _run()
    assert out.returncode == 0, out.stderr[-2000:]
    assert "no CUDA device" in out.stdout
    assert "| stage |" not in out.stdout


@pytest.mark.slow
def test_cpu_mode_prints_one_table_with_every_stage_checked() -> None:
    out = _run("--device", "cpu", "--n", "64", "--steps", "3", "--preset", "quick")
    assert out.returncode == 0, out.stderr[-2000:]
    rows = [
        line for line in out.stdout.splitlines() if re.match(r"\| (mse|nlpd|msssim|train)", line)
    ]
    assert len(rows) == 6  # three matrices, one training per loss
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert float(cells[1]) > 0 and float(cells[2]) > 0 and cells[3].endswith("x")
        assert cells[4].startswith("ok (")  # the same device agrees with itself exactly
    assert "first 3 losses rel 0.0e+00" in out.stdout
