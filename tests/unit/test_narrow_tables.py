"""Issue 19 item 8: at 80 columns a run id is never split across lines; the table drops
columns that the id already carries (the metric) or that matter less, never the test F1."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from percmusic_cli.render.tables import runs_table

IDS = {
    "knn": "knn-msssim-291efd3e",
    "latent": "latent-ae-msssim-spectrograms-1a2b3c4d-9f8e7d6c",
    "control": "latent-raw-5e6f7a8b",
    "plugin": "knn-my-very-long-plugin-metric-name-0a1b2c3d",
}


def _row(run_id: str, split: str = "fault-filtered", ratio: float | None = None) -> dict:
    return {
        "run_id": run_id,
        "kind": run_id.split("-")[0],
        "metric": run_id.split("-", 1)[1].rsplit("-", 1)[0],
        "split": split,
        "param": 7,
        "param_name": "k",
        "valid_f1": 0.512,
        "test_f1": 0.487,
        "test_f1_low": 0.401,
        "test_f1_high": 0.566,
        "accuracy": 0.5,
        "loss_ratio": ratio,
        "created_at": "2025-01-02T03:04:05",
    }


def _text(rows: list[dict], width: int) -> str:
    buf = io.StringIO()
    Console(file=buf, width=width).print(runs_table(rows, title="runs", width=width))
    return buf.getvalue()


CASES = {
    "knn only": [_row(IDS["knn"])],
    "all kinds": [_row(i) for i in IDS.values()],
    "with a loss ratio": [_row(IDS["latent"], ratio=0.96), _row(IDS["knn"])],
    "two splits": [_row(IDS["latent"], "random-s0"), _row(IDS["control"])],
}


@pytest.mark.parametrize("width", [80, 100, 120])
@pytest.mark.parametrize("case", list(CASES))
def test_run_ids_stay_whole_and_test_f1_stays(case: str, width: int) -> None:
    rows = CASES[case]
    out = _text(rows, width)
    assert max(len(line.rstrip()) for line in out.splitlines()) <= width
    for r in rows:
        line = next((ln for ln in out.splitlines() if r["run_id"] in ln), None)
        assert line is not None, (r["run_id"], out)
        assert "0.487 [0.40, 0.57]" in line  # the test F1 with its CI, on the id's line
    assert "…" not in out


def test_wide_terminals_keep_every_column() -> None:
    out = _text([_row(IDS["knn"]), _row(IDS["control"])], 160)
    for header in ("metric/loss", "k / C", "valid", "acc", "date"):
        assert header in out
