"""Issue 20's classes this branch fixes, black-box through the CLI (benchmarks/attacks20.py):
bad rows, interrupted removals, sources that became special files, memory limits."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import attacks20


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("attacks20")


@pytest.mark.slow
@pytest.mark.parametrize("group", ["bad rows", "interrupted rm", "special files", "memory"])
def test_issue20_class_is_handled(work: Path, group: str) -> None:
    cases = attacks20.main(work, (group,))
    assert len(cases) >= 4  # memory: ulimit -v 1.5 GB on four steps
    failed = [(c.name, c.detail) for c in cases if not c.handled]
    assert not failed, failed
    if group == "interrupted rm":
        assert sum(c.kills for c in cases) >= 4  # real SIGKILLs, each finished afterwards
