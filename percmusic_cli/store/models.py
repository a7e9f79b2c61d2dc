"""Trained models (checkpoint folders live under checkpoints/), loss history, latent sets."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from percmusic_cli.config import ModelConfig, TrainConfig
from percmusic_cli.store import arrays as a
from percmusic_cli.store import tables as t
from percmusic_cli.store.arrays import ArrayRecord
from percmusic_cli.store.db import Store


def upsert_model(
    con: t.Con,
    model_id: str,
    cfg: TrainConfig,
    model_cfg: ModelConfig,
    checkpoint_dir: str,
    steps_done: int,
    status: str,
    device: str | None,
    wall_s: float | None,
    feature_hash: str | None,
) -> None:
    con.execute(
        "INSERT INTO models (model_id, loss, data, model_config, train_config, checkpoint_dir, "
        "steps_done, steps_total, status, device, wall_s, feature_hash, updated_at) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?, now()) ON CONFLICT (model_id) DO UPDATE "
        "SET steps_done = excluded.steps_done, status = excluded.status, "
        "device = excluded.device, wall_s = excluded.wall_s, updated_at = now()",
        [
            model_id,
            cfg.loss,
            cfg.data,
            json.dumps(asdict(model_cfg), sort_keys=True),
            json.dumps(asdict(cfg), sort_keys=True),
            checkpoint_dir,
            steps_done,
            cfg.steps,
            status,
            device,
            wall_s,
            feature_hash,
        ],
    )


def save_history(con: t.Con, model_id: str, history: list[tuple[int, float]]) -> None:
    con.execute("BEGIN TRANSACTION")
    con.execute("DELETE FROM loss_history WHERE model_id = ?", [model_id])
    t.insert_rows(
        con,
        "INSERT INTO loss_history VALUES",
        [[model_id, int(s), float(v)] for s, v in history],
    )
    con.execute("COMMIT")


def has_learning(con: t.Con) -> bool:
    """Whether the store has migration 6's columns (a read-only open of an older store
    is not migrated; its reads show the ratio as unknown instead of failing)."""
    row = con.execute(
        "SELECT count(*) FROM information_schema.columns "
        "WHERE table_name = 'models' AND column_name = 'baseline_loss' "
        "AND table_catalog = current_database()"
    ).fetchone()
    return bool(row and row[0])


def save_learning(con: t.Con, model_id: str, final: float | None, baseline: float | None) -> None:
    """The run's final loss (mean of its last tenth) and its trivial baseline."""
    con.execute(
        "UPDATE models SET final_loss = ?, baseline_loss = ? WHERE model_id = ?",
        [final, baseline, model_id],
    )


def get_model(con: t.Con, ref: str) -> dict[str, Any] | None:
    """A model by id, or by a unique id prefix."""
    rows = t.query(
        con,
        "SELECT * EXCLUDE (created_at, updated_at), created_at::VARCHAR AS "
        "created_at FROM models WHERE model_id = ? OR model_id LIKE ? "
        "ORDER BY model_id = ? DESC, model_id",
        [ref, ref + "%", ref],
    )
    if not rows:
        return None
    if len(rows) > 1 and rows[0]["model_id"] != ref:
        from percmusic_cli.errors import UsageError

        # Documented rule: a prefix names one model; several (e.g. one per seed after
        # `reproduce --seeds N`) are listed with their seeds, never picked silently.
        listed = ", ".join(f"{r['model_id']} (seed {_seed(r)})" for r in rows)
        raise UsageError(f"{ref!r} matches {len(rows)} models: {listed}; name one")
    row = rows[0]
    row["model_config"] = json.loads(row["model_config"])
    row["train_config"] = json.loads(row["train_config"])
    return row


def _seed(row: dict[str, Any]) -> Any:
    try:
        return json.loads(row["train_config"]).get("seed", "?")
    except (TypeError, ValueError, AttributeError):
        return "?"


def list_models(con: t.Con) -> list[dict[str, Any]]:
    return t.query(
        con,
        "SELECT model_id, loss, data, steps_done, steps_total, status, device, "
        "wall_s, "
        + (
            "final_loss, baseline_loss, final_loss / baseline_loss AS loss_ratio, "
            if has_learning(con)
            else "NULL AS final_loss, NULL AS baseline_loss, NULL AS loss_ratio, "
        )
        + "created_at::VARCHAR AS created_at FROM models ORDER BY created_at",
    )


def history(con: t.Con, model_id: str) -> list[tuple[int, float]]:
    rows = con.execute(
        "SELECT step, loss FROM loss_history WHERE model_id = ? ORDER BY step", [model_id]
    ).fetchall()
    return [(int(r[0]), float(r[1])) for r in rows]


def find_latents(con: t.Con, latent_hash: str) -> ArrayRecord | None:
    row = con.execute(
        "SELECT array_path FROM latent_sets WHERE latent_hash = ?", [latent_hash]
    ).fetchone()
    return t.array_record(con, row[0]) if row else None


def save_latents(
    store: Store, latent_hash: str, model_id: str, feature_hash: str, pool: str, latents: Any
) -> None:
    rel = f"arrays/latents-{latent_hash}.npy"
    rec = a.write_array(store.root, rel, latents, kind="latents")
    with store.connect() as con:
        con.execute("BEGIN TRANSACTION")
        t.record_array(con, rec)
        con.execute(
            "INSERT OR REPLACE INTO latent_sets (latent_hash, model_id, feature_hash, "
            "pool, array_path) VALUES (?, ?, ?, ?, ?)",
            [latent_hash, model_id, feature_hash, pool, rel],
        )
        con.execute("COMMIT")
