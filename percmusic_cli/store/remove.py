"""Rows that `percmusic rm` deletes: runs with their metrics, predictions and curves;
models with their loss history, latent sets and those sets' array records.

The step (`steps/remove.py`) orders these with the file moves so that a crash at any
point leaves a store that `check` passes: see `mark_removing` and `drop_models`."""

from __future__ import annotations

from dataclasses import dataclass, field

from percmusic_cli.errors import UsageError
from percmusic_cli.store import tables as t

RUN_TABLES = ("run_metrics", "predictions", "curves", "runs")


@dataclass
class Removal:
    runs: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    checkpoints: dict[str, str] = field(default_factory=dict)  # model id -> checkpoint dir
    latents: dict[str, str] = field(default_factory=dict)  # latent hash -> array path


def _matches(con: t.Con, table: str, column: str, ref: str) -> list[str]:
    rows = con.execute(
        f"SELECT {column} FROM {table} WHERE starts_with({column}, ?) ORDER BY {column}", [ref]
    ).fetchall()
    ids = [str(r[0]) for r in rows]
    return [ref] if ref in ids else ids


def plan(con: t.Con, refs: list[str]) -> Removal:
    """Resolve each id (or unambiguous prefix) to a run or a model; an unknown or
    ambiguous one is a usage error, before anything is deleted."""
    out = Removal()
    for ref in refs:
        found = [("run", i) for i in _matches(con, "runs", "run_id", ref)]
        found += [("model", i) for i in _matches(con, "models", "model_id", ref)]
        if not found:
            raise UsageError(f"no run or model {ref!r} in the store (see `percmusic results`)")
        if len(found) > 1:
            names = ", ".join(i for _, i in found[:8])
            raise UsageError(f"{ref!r} matches {len(found)} runs and models ({names}): give more")
        kind, ident = found[0]
        target = out.runs if kind == "run" else out.models
        if ident not in target:
            target.append(ident)
    for mid in out.models:
        row = con.execute("SELECT checkpoint_dir FROM models WHERE model_id = ?", [mid]).fetchone()
        out.checkpoints[mid] = str(row[0]) if row else ""
        for key, path in con.execute(
            "SELECT latent_hash, array_path FROM latent_sets WHERE model_id = ? ORDER BY 1", [mid]
        ).fetchall():
            out.latents[str(key)] = str(path)
    return out


def mark_removing(con: t.Con, removal: Removal) -> None:
    """First transaction: runs and latent sets (rows and array records) go; models stay,
    marked 'removing', so their checkpoint folder may vanish next without `check` calling
    it missing (a model not 'done' without a checkpoint is unfinished work, not damage)."""
    con.execute("BEGIN TRANSACTION")
    for run_id in removal.runs:
        for table in RUN_TABLES:
            con.execute(f"DELETE FROM {table} WHERE run_id = ?", [run_id])
    for key, path in removal.latents.items():
        con.execute("DELETE FROM latent_sets WHERE latent_hash = ?", [key])
        con.execute("DELETE FROM arrays WHERE path = ?", [path])
    for mid in removal.models:
        con.execute(
            "UPDATE models SET status = 'removing', updated_at = now() WHERE model_id = ?", [mid]
        )
    con.execute("COMMIT")


def drop_models(con: t.Con, model_ids: list[str]) -> None:
    """Last transaction, once the checkpoint folders are out of the way."""
    con.execute("BEGIN TRANSACTION")
    for mid in model_ids:
        con.execute("DELETE FROM loss_history WHERE model_id = ?", [mid])
        con.execute("DELETE FROM models WHERE model_id = ?", [mid])
    con.execute("COMMIT")
