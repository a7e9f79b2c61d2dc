"""Recording a classifier result as a run, with everything needed to reproduce it."""

from __future__ import annotations

from typing import Any

from percmusic_cli.experiments.report import ClassifierResult
from percmusic_cli.steps.common import git_revision, package_versions
from percmusic_cli.steps.views import PARTS, SplitView
from percmusic_cli.store import Store
from percmusic_cli.store import runs as sr


def part_labels(view: SplitView) -> dict[str, list[str]]:
    """Labels of each non-empty part of the split."""
    return {p: view.part_labels(p) for p in PARTS if len(view.rows[p])}


def existing_run(store: Store, input_key: str) -> dict[str, Any] | None:
    with store.connect(read_only=True) as con:
        run_id = sr.find_by_input(con, input_key)
        return sr.get_run(con, run_id) if run_id else None


def record(
    store: Store,
    view: SplitView,
    kind: str,
    name: str,
    input_key: str,
    config: dict[str, Any],
    seed: int,
    device: str | None,
    wall_s: float,
    result: ClassifierResult,
    fit_parts: list[str],
) -> str:
    run_id = f"{kind}-{name}-{input_key[:8]}"
    run = sr.RunRecord(
        run_id=run_id,
        kind=kind,
        name=name,
        dataset=view.dataset,
        split=view.split,
        feature_hash=view.feature_hash,
        input_key=input_key,
        config=config,
        seed=seed,
        git_rev=git_revision(),
        versions=package_versions(),
        device=device,
        wall_s=round(wall_s, 3),
    )
    fit_ids = [tid for part in fit_parts for tid in view.ids(part)]
    sr.save_run(store, run, result.to_dict(), view.ids("test"), fit_ids)
    return run_id


def summary_row(
    run_id: str, kind: str, name: str, result: dict[str, Any], reused: bool
) -> dict[str, Any]:
    ev = result["evaluation"]
    return {
        "run_id": run_id,
        "kind": kind,
        "metric": name,
        "param_name": result["curve"]["param"],
        "param": result["curve"]["chosen"],
        "selection": result["curve"]["method"],
        "valid_f1": result.get("valid_f1"),
        "test_f1": ev["f1_weighted"],
        "test_f1_low": ev["f1_weighted_ci"]["low"],
        "test_f1_high": ev["f1_weighted_ci"]["high"],
        "accuracy": ev["accuracy"],
        "notes": result.get("notes", []),
        "reused": reused,
    }
