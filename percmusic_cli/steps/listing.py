"""Reads behind `results` and the dashboard's model list: filters checked against what is
stored (a typo is a usage error listing the valid values, never an empty table), and a
model left "training" by a stopped writer shown as "interrupted"."""

from __future__ import annotations

from typing import Any

from percmusic_cli import metric_names
from percmusic_cli.errors import UsageError
from percmusic_cli.experiments.folds import fold_of
from percmusic_cli.store import Store


def list_results(
    store: Store,
    kind: str | None = None,
    name: str | None = None,
    dataset: str | None = None,
    split: str | None = None,
) -> list[dict[str, Any]]:
    from percmusic_cli.classifiers import registry
    from percmusic_cli.store import runs as sr
    from percmusic_cli.store import tables as t

    metric_list = metric_names.names()
    if kind is not None:
        registry.check_kind(kind)
    if not store.exists():
        if name is not None and name not in metric_list:
            listed = ", ".join(metric_list)
            raise UsageError(f"unknown --metric {name!r}: choose one of {listed}")
        if dataset is not None:
            raise UsageError(f"unknown --dataset {dataset!r}: choose one of none stored yet")
        return []
    with store.connect(read_only=True) as con:
        for option, value, valid in (
            ("--metric", name, dict.fromkeys([*metric_list, *sr.distinct_values(con, "name")])),
            ("--split", split, sr.distinct_values(con, "split")),
            (
                "--dataset",
                dataset,
                dict.fromkeys([*t.dataset_names(con), *sr.distinct_values(con, "dataset")]),
            ),
        ):
            if value is not None and value not in valid:
                listed = ", ".join(valid) or "none stored yet"
                raise UsageError(f"unknown {option} {value!r}: choose one of {listed}")
        rows = sr.list_runs(con, kind=kind, name=name, dataset=dataset, split=split)
    for row in rows:  # a repeated study's run: its split's base name and its fold ("2/5")
        row["split_base"], row["fold"] = fold_of(str(row.get("split") or ""))
        row["fold"] = row["fold"] or None
    return rows


def list_models(store: Store) -> list[dict[str, Any]]:
    """Every model; one still marked 'training' while no writer holds the store was
    stopped, so it shows as 'interrupted' (what `check --repair` records)."""
    from percmusic_cli.store import check as sc
    from percmusic_cli.store import models as sm

    if not store.exists():
        return []
    with store.connect(read_only=True) as con:
        rows = sm.list_models(con)
    if any(r["status"] == "training" for r in rows) and sc.writer_holder(store.root) is None:
        for r in rows:
            if r["status"] == "training":
                r["status"] = "interrupted"
    return rows


def latest_study(store: Store) -> dict[str, Any] | None:
    """The last `reproduce` (or `demo`) summary with its claims table, or None."""
    from percmusic_cli.store.studies import latest_study as read

    if not store.exists():
        return None
    with store.connect(read_only=True) as con:
        return read(con)


def dataset_names(store: Store) -> list[str]:
    from percmusic_cli.store import tables as t

    if not store.exists():
        return []
    with store.connect(read_only=True) as con:
        return t.dataset_names(con)


def track_rows(store: Store, dataset: str | None = None) -> list[dict[str, Any]]:
    from percmusic_cli.store import browse as sb

    if not store.exists():
        return []
    with store.connect(read_only=True) as con:
        return sb.track_rows(con, dataset)
