"""benchmarks/study.py: the GTZAN-sized study benchmark (run tiny here)."""

from __future__ import annotations

import importlib.util
import re
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "benchmarks" / "study.py"


def _module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_study", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_part_sizes_are_the_fault_filtered_split_at_930_and_scale_down() -> None:
    m = _module()
    assert m.part_sizes(930) == {"train": 443, "valid": 197, "test": 290}
    small = m.part_sizes(40)
    assert sum(small.values()) == 40 and small["train"] == 19 and small["valid"] == 8


def test_split_lines_give_each_part_its_share_of_every_label() -> None:
    m = _module()
    tracks = [
        {"track_id": f"{lab}.{i:03d}", "label": lab} for lab in "abcdefghij" for i in range(93)
    ]
    lines = m.split_lines(tracks, m.part_sizes(930))
    parts = Counter(line.split()[1] for line in lines)
    assert parts == {"train": 443, "valid": 197, "test": 290}
    train_labels = Counter(line[0] for line in lines if line.endswith("train"))
    assert max(train_labels.values()) - min(train_labels.values()) <= 1
    assert len({line.split()[0] for line in lines}) == 930


@pytest.mark.slow
@pytest.mark.usefixtures("short_quick_preset")  # the stages and table, not what training learns
def test_tiny_study_prints_every_stage_and_the_total(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--n", "20", "--seconds", "3", "--frames", "128", "--preset", "quick"]
    monkeypatch.setattr(sys, "argv", [str(SCRIPT), *args, "--keep", str(tmp_path / "s")])
    _module().main()  # in this process: no second torch import, and the shortened preset
    out = capsys.readouterr().out
    for stage in ("synthesize audio", "ingest", "features", "distances", "reproduce"):
        assert re.search(rf"^\| {stage}[^|]* \| \d+\.\d \|", out, re.M), stage
    assert "train 10" in out and "valid 4" in out and "test 6" in out
    total = re.search(r"^STUDY-20: whole study in (\d+\.\d) s wall", out, re.M)
    assert total is not None and float(total.group(1)) > 0
    assert (tmp_path / "s" / "store").is_dir()  # --keep kept the store
