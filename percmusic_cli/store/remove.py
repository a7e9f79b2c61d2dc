"""Rows that `percmusic rm` deletes: runs with their metrics, predictions and curves;
models with their loss history, latent sets and those sets' array records; distance
matrices (with their statistics) and feature sets (with the matrices computed from them).

The step (`steps/remove.py`) orders these with the file moves so that a crash at any
point leaves a store that `check` passes: see `mark_removing` and `drop_models`."""

from __future__ import annotations

from collections.abc import Collection
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
    features: dict[str, str] = field(default_factory=dict)  # feature hash -> array path
    distances: dict[str, str] = field(default_factory=dict)  # distance hash -> array path

    def ids(self) -> list[str]:
        return [*self.runs, *self.models, *self.features, *self.distances]


# what a ref may name: (kind, table, id column)
_KINDS = (
    ("run", "runs", "run_id"),
    ("model", "models", "model_id"),
    ("feature set", "feature_sets", "feature_hash"),
    ("distance matrix", "distance_sets", "dist_hash"),
)


def _matches(con: t.Con, table: str, column: str, ref: str) -> list[str]:
    rows = con.execute(
        f"SELECT {column} FROM {table} WHERE starts_with({column}, ?) ORDER BY {column}", [ref]
    ).fetchall()
    ids = [str(r[0]) for r in rows]
    return [ref] if ref in ids else ids


def plan(con: t.Con, refs: list[str], gone: Collection[str] = ()) -> Removal:
    """Resolve each id (or unambiguous prefix) to a run, a model, a feature set or a
    distance matrix; an unknown or ambiguous one is a usage error, before anything is
    deleted. A ref naming only what an interrupted `rm` already removed (`gone`) is done."""
    out = Removal()
    for ref in refs:
        found = [(kind, i) for kind, table, col in _KINDS for i in _matches(con, table, col, ref)]
        if not found and any(g.startswith(ref) for g in gone):
            continue
        if not found:
            raise UsageError(
                f"no run, model, feature set or distance matrix {ref!r} in the store (see "
                "`percmusic results` and `percmusic status`)"
            )
        if len(found) > 1:
            names = ", ".join(i for _, i in found[:8])
            raise UsageError(f"{ref!r} matches {len(found)} stored ids ({names}): give more")
        _add(out, *found[0])
    _with_dependents(con, out)
    for mid in out.models:
        row = con.execute("SELECT checkpoint_dir FROM models WHERE model_id = ?", [mid]).fetchone()
        out.checkpoints[mid] = str(row[0]) if row else ""
        for key, path in con.execute(
            "SELECT latent_hash, array_path FROM latent_sets WHERE model_id = ? ORDER BY 1", [mid]
        ).fetchall():
            out.latents[str(key)] = str(path)
    return out


def _add(out: Removal, kind: str, ident: str) -> None:
    if kind in ("run", "model"):
        target = out.runs if kind == "run" else out.models
        if ident not in target:
            target.append(ident)
    elif kind == "feature set":
        out.features[ident] = ""
    else:
        out.distances[ident] = ""


def _with_dependents(con: t.Con, out: Removal) -> None:
    """Array paths of the feature sets and matrices, and the matrices computed from a
    removed feature set (they cannot be used without it)."""
    for fh in list(out.features):
        row = con.execute("SELECT array_path FROM feature_sets WHERE feature_hash = ?", [fh])
        out.features[fh] = str((row.fetchone() or [""])[0])
        for (dh,) in con.execute(
            "SELECT dist_hash FROM distance_sets WHERE feature_hash = ? ORDER BY 1", [fh]
        ).fetchall():
            out.distances[str(dh)] = ""
    for dh in list(out.distances):
        row = con.execute("SELECT array_path FROM distance_sets WHERE dist_hash = ?", [dh])
        out.distances[dh] = str((row.fetchone() or [""])[0])


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
    # Matrices and feature sets go with their rows here; their files become unrecorded
    # leftovers, which `check` passes and `check --repair` (or the step) deletes.
    for key, path in removal.distances.items():
        con.execute("DELETE FROM distance_stats WHERE dist_hash = ?", [key])
        con.execute("DELETE FROM distance_sets WHERE dist_hash = ?", [key])
        con.execute("DELETE FROM arrays WHERE path = ?", [path])
    for key, path in removal.features.items():
        con.execute("DELETE FROM feature_tracks WHERE feature_hash = ?", [key])
        con.execute("DELETE FROM active_features WHERE feature_hash = ?", [key])
        con.execute("DELETE FROM feature_sets WHERE feature_hash = ?", [key])
        con.execute("DELETE FROM arrays WHERE path = ?", [path])
    for mid in removal.models:
        con.execute(
            "UPDATE models SET status = 'removing', updated_at = now() WHERE model_id = ?", [mid]
        )
    con.execute("COMMIT")


def removing_models(con: t.Con) -> list[str]:
    """Models an interrupted `rm` marked and did not finish."""
    rows = con.execute("SELECT model_id FROM models WHERE status = 'removing' ORDER BY 1")
    return [str(r[0]) for r in rows.fetchall()]


def drop_models(con: t.Con, model_ids: list[str]) -> None:
    """Last transaction, once the checkpoint folders are out of the way."""
    con.execute("BEGIN TRANSACTION")
    for mid in model_ids:
        con.execute("DELETE FROM loss_history WHERE model_id = ?", [mid])
        con.execute("DELETE FROM models WHERE model_id = ?", [mid])
    con.execute("COMMIT")
