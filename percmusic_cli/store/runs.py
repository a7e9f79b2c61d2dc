"""Experiment runs: provenance, headline metrics, per-track predictions, selection curves.

The `runs`, `run_metrics`, `predictions` and `curves` tables are meant to be queried with
plain SQL too (README has examples)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from percmusic_cli.store import models as sm
from percmusic_cli.store import tables as t
from percmusic_cli.store.db import Store


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    kind: str  # a classifier's name (percmusic_cli/classifiers): "knn", "latent", ...
    name: str  # metric (knn) or model/control name (latent)
    dataset: str
    split: str
    feature_hash: str | None
    input_key: str
    config: dict[str, Any]
    seed: int | None
    git_rev: str | None
    versions: dict[str, str]
    device: str | None
    wall_s: float


def save_run(
    store: Store, run: RunRecord, result: dict[str, Any], test_ids: list[str], fit_ids: list[str]
) -> None:
    """One transaction: the run, its metrics, its predictions (with track ids) and curve."""
    ev = result["evaluation"]
    preds = result["predictions"]
    summary = {k: v for k, v in result.items() if k != "predictions"}
    metrics = [
        (
            "f1_weighted",
            ev["f1_weighted"],
            ev["f1_weighted_ci"]["low"],
            ev["f1_weighted_ci"]["high"],
        ),
        ("accuracy", ev["accuracy"], ev["accuracy_ci"]["low"], ev["accuracy_ci"]["high"]),
        ("f1_macro", ev["f1_macro"], None, None),
        ("macro_classes", ev.get("macro_classes"), None, None),
        ("valid_f1", result.get("valid_f1"), None, None),
        (result["curve"]["param"], result["curve"]["chosen"], None, None),
    ] + [(f"f1:{c['label']}", c["f1"], None, None) for c in ev["per_class"]]
    with store.connect() as con:
        con.execute("BEGIN TRANSACTION")
        for table in ("run_metrics", "predictions", "curves", "runs"):
            con.execute(f"DELETE FROM {table} WHERE run_id = ?", [run.run_id])
        con.execute(
            "INSERT INTO runs (run_id, kind, name, dataset, split, feature_hash, input_key, "
            "config, seed, git_rev, versions, device, wall_s, result) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [
                run.run_id,
                run.kind,
                run.name,
                run.dataset,
                run.split,
                run.feature_hash,
                run.input_key,
                json.dumps(run.config, sort_keys=True),
                run.seed,
                run.git_rev,
                json.dumps(run.versions, sort_keys=True),
                run.device,
                run.wall_s,
                json.dumps(summary),
            ],
        )
        t.insert_rows(con, "INSERT INTO run_metrics VALUES", [[run.run_id, *m] for m in metrics])
        t.insert_rows(
            con,
            "INSERT INTO predictions VALUES",
            [
                [
                    run.run_id,
                    test_ids[p["index"]],
                    p["true"],
                    p["pred"],
                    None
                    if p["neighbours"] is None
                    else json.dumps([fit_ids[i] for i in p["neighbours"]]),
                    None if p["distances"] is None else json.dumps(p["distances"]),
                ]
                for p in preds
            ],
        )
        curve = result["curve"]
        t.insert_rows(
            con,
            "INSERT INTO curves VALUES",
            [
                [run.run_id, curve["param"], x, s, x == curve["chosen"]]
                for x, s in zip(curve["values"], curve["scores"], strict=True)
            ],
        )
        con.execute("COMMIT")


def distinct_values(con: t.Con, column: str) -> list[str]:
    """Stored values of a runs column ("name", "split", "dataset") for filter validation."""
    assert column in ("name", "split", "dataset"), column
    rows = con.execute(f"SELECT DISTINCT {column} FROM runs ORDER BY 1").fetchall()
    return [str(r[0]) for r in rows]


def find_by_input(con: t.Con, input_key: str) -> str | None:
    row = con.execute(
        "SELECT run_id FROM runs WHERE input_key = ? ORDER BY created_at DESC LIMIT 1", [input_key]
    ).fetchone()
    return str(row[0]) if row else None


def list_runs(
    con: t.Con,
    kind: str | None = None,
    name: str | None = None,
    dataset: str | None = None,
    split: str | None = None,
) -> list[dict[str, Any]]:
    """One row per run with its headline numbers, newest last."""
    where, params = [], []
    filters = (("r.kind", kind), ("r.name", name), ("r.dataset", dataset), ("r.split", split))
    for col, value in filters:
        if value:
            where.append(f"{col} = ?")
            params.append(value)
    sql = (
        "SELECT r.run_id, r.kind, r.name AS metric, r.dataset, r.split, "
        "json_extract_string(r.result, '$.curve.param') AS param_name, "
        "max(m.value) FILTER (WHERE m.name = json_extract_string(r.result, '$.curve.param')) "
        "AS param, "
        "max(m.value) FILTER (WHERE m.name = 'valid_f1') AS valid_f1, "
        "max(m.value) FILTER (WHERE m.name = 'f1_weighted') AS test_f1, "
        "max(m.low) FILTER (WHERE m.name = 'f1_weighted') AS test_f1_low, "
        "max(m.high) FILTER (WHERE m.name = 'f1_weighted') AS test_f1_high, "
        "max(m.value) FILTER (WHERE m.name = 'accuracy') AS accuracy, "
        "max(m.value) FILTER (WHERE m.name = 'f1_macro') AS f1_macro, "
        "max(m.value) FILTER (WHERE m.name = 'macro_classes') AS macro_classes, "
        "json_extract_string(r.result, '$.curve.method') AS selection, r.seed, "
        # Did the encoder's model learn: final training loss / its trivial baseline.
        + (
            "any_value(mo.final_loss / mo.baseline_loss) AS loss_ratio, "
            if sm.has_learning(con)
            else "NULL AS loss_ratio, "
        )
        + "r.wall_s, r.created_at::VARCHAR AS created_at "
        "FROM runs r LEFT JOIN run_metrics m USING (run_id) "
        "LEFT JOIN models mo "
        "ON mo.model_id = json_extract_string(r.config, '$.encoder.model_id') "
        + ("WHERE " + " AND ".join(where) + " " if where else "")
        + "GROUP BY ALL ORDER BY created_at, r.run_id"
    )
    return t.query(con, sql, params)


def get_run(con: t.Con, run_id: str) -> dict[str, Any] | None:
    """The run with this id, or else the latest run whose id starts with it; then
    `other_matches` lists the other runs the prefix matched, newest first."""
    rows = t.query(
        con,
        "SELECT * EXCLUDE (created_at), created_at::VARCHAR AS created_at "
        "FROM runs WHERE starts_with(run_id, ?) ORDER BY created_at DESC, run_id",
        [run_id],
    )
    if not rows:
        return None
    exact = [r for r in rows if r["run_id"] == run_id]
    run = (exact or rows)[0]
    run["other_matches"] = [] if exact else [r["run_id"] for r in rows[1:]]
    for key in ("config", "versions", "result"):
        run[key] = json.loads(run[key]) if run[key] else None
    run["predictions"] = t.query(
        con,
        "SELECT track_id, true_label, pred_label, neighbours, distances FROM predictions "
        "WHERE run_id = ? ORDER BY track_id",
        [run["run_id"]],
    )
    for p in run["predictions"]:
        p["neighbours"] = json.loads(p["neighbours"]) if p["neighbours"] else None
        p["distances"] = json.loads(p["distances"]) if p["distances"] else None
    return run
