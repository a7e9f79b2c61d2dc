"""`reproduce --seeds N --folds K`: the study repeated over seeds and folds, summarised as
mean ± sd with two-level bootstrap intervals, and its claims as tested statements.

Each (fold, seed) is one plain `reproduce` (steps/reproduce.py) with seed `seed + s`: N
autoencoders per loss, N untrained initialisations, and the KNN / logistic-regression
selection and bootstrap seeded alike; every run is stored with its seed and reused on a
rerun. With K > 1 the all x all distance matrices are computed once and every fold reads
its blocks from them."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from percmusic_cli.config import MAX_FOLDS, DistanceConfig, check_int
from percmusic_cli.errors import UsageError
from percmusic_cli.execution import Session, as_session
from percmusic_cli.experiments.baseline import NOT_LEARNED_RATIO
from percmusic_cli.experiments.claims import evaluate_claims, study_claims
from percmusic_cli.experiments.folds import small_test_hint
from percmusic_cli.experiments.paired import Arm, ArmScores, arm_scores
from percmusic_cli.experiments.stats import encode
from percmusic_cli.hashing import param_hash
from percmusic_cli.metrics import registry
from percmusic_cli.progress import Reporter
from percmusic_cli.steps.distances import compute_distances
from percmusic_cli.steps.folds import fold_views
from percmusic_cli.steps.predictions import run_predictions
from percmusic_cli.steps.reproduce import reproduce
from percmusic_cli.steps.train import find_model
from percmusic_cli.steps.views import SplitView
from percmusic_cli.store import Store
from percmusic_cli.store.studies import save_study

N_BOOT = 1000


def _arm_runs(result: dict[str, Any]) -> dict[str, str]:
    """Arm name -> run id of one plain reproduce result."""
    arms = {}
    for row in result["rows"]:
        arms[f"knn:{row['metric']}"] = row["knn"]["run_id"]
        arms[f"ae:{row['metric']}"] = row["latent"]["run_id"]
    for control in result["controls"]:
        arms[control["metric"]] = control["run_id"]
    return arms


def _arms(
    store: Store, per_fold: list[list[dict[str, Any]]], classes: list[str]
) -> tuple[list[np.ndarray], dict[str, Arm]]:
    """Truth codes per fold and each arm's (seeds, tracks) prediction codes per fold."""
    truth: list[np.ndarray] = []
    stacks: dict[str, list[np.ndarray]] = {}
    for results in per_fold:
        runs = [_arm_runs(r) for r in results]
        ids, true, _ = run_predictions(store, runs[0]["raw"])
        truth.append(encode(true, classes))
        for name in runs[0]:
            preds = []
            for arm_runs in runs:
                got_ids, _, pred = run_predictions(store, arm_runs[name])
                if got_ids != ids:  # cannot happen: every run of a fold shares its test part
                    raise UsageError(f"run {arm_runs[name]} was scored on other test tracks")
                preds.append(encode(pred, classes))
            stacks.setdefault(name, []).append(np.stack(preds))
    return truth, {name: Arm(p) for name, p in stacks.items()}


def _learning(store: Store, per_fold: list[list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Per loss: each seed's final / baseline loss ratio and how many did not learn."""
    out: dict[str, dict[str, Any]] = {}
    for row_set in (r["rows"] for r in per_fold[0]):
        for row in row_set:
            model = find_model(store, row["model_id"]) or {}
            fin, base = model.get("final_loss"), model.get("baseline_loss")
            ratio = fin / base if fin is not None and base else None
            entry = out.setdefault(row["metric"], {"models": [], "ratios": []})
            entry["models"].append(row["model_id"])
            entry["ratios"].append(ratio)
    for entry in out.values():
        known = [r for r in entry["ratios"] if r is not None]
        entry["mean_ratio"] = float(np.mean(known)) if known else None
        entry["not_learned"] = sum(r >= NOT_LEARNED_RATIO for r in known)
    return out


def _summary(scores: dict[str, ArmScores]) -> dict[str, dict[str, Any]]:
    out = {}
    for name, s in scores.items():
        low, high = np.quantile(s.boot, [0.025, 0.975])
        out[name] = {
            "mean": s.point,
            "sd_seeds": None if np.isnan(s.sd_seeds) else s.sd_seeds,
            "sd_folds": None if np.isnan(s.sd_folds) else s.sd_folds,
            "low": float(low),
            "high": float(high),
            "per_run": s.per_run.tolist(),
        }
    return out


MAX_SEEDS = 100  # each seed trains one autoencoder per loss


def study(
    store: Session | Store,
    view: SplitView,
    preset: str = "default",
    device: str = "auto",
    reporter: Reporter | None = None,
    seed: int = 0,
    seeds: int = 1,
    folds: int = 1,
) -> dict[str, Any]:
    session = as_session(store, reporter)
    store, reporter = session.store, session.reporter
    check_int("--seeds", seeds, 1, MAX_SEEDS)
    check_int("--folds", folds, 1, MAX_FOLDS)
    metrics = list(registry.study_names())
    labels = {m: registry.get(m).label for m in metrics}
    started = time.monotonic()
    views = [view] if folds == 1 else fold_views(view, folds, seed)
    if folds > 1:
        reporter.log(f"reproduce: all x all distances once for {folds} folds")
        compute_distances(session, view, metrics, "all", DistanceConfig(device=device))
    per_fold = []
    for i, v in enumerate(views, start=1):
        results = []
        for s in range(seeds):
            reporter.log(f"reproduce: fold {i}/{len(views)}, seed {seed + s}")
            results.append(reproduce(session, v, preset, device, reporter, seed=seed + s))
        per_fold.append(results)
    truth, arms = _arms(store, per_fold, view.classes)
    scores = arm_scores(truth, arms, len(view.classes), N_BOOT, seed)
    claims = evaluate_claims(study_claims(metrics, labels), scores)
    learning = _learning(store, per_fold)
    for c in claims:
        if c["kind"] in ("vs-untrained", "vs-raw", "ae-vs-knn") and c["metric"] in learning:
            c["loss_ratio"] = learning[c["metric"]]["mean_ratio"]
            c["not_learned"] = learning[c["metric"]]["not_learned"]
            c["n_models"] = len(learning[c["metric"]]["ratios"])
    hint = small_test_hint(views[0].part_labels("test"))
    result = {
        **per_fold[0][0],
        "split": view.split,  # the stored split, not the first fold's name
        "seeds": seeds,
        "folds": folds,
        "first_seed": seed,
        "test_tracks_per_fold": [len(t) for t in truth],
        "summary": _summary(scores),
        "claims": claims,
        "learning": learning,
        "hints": [hint] if hint else [],
        "n_boot": N_BOOT,
        "wall_s": round(time.monotonic() - started, 1),
    }
    study_id = param_hash(view.dataset, view.split, view.feature_hash, preset, seed, seeds, folds)
    with store.connect() as con:
        save_study(con, study_id[:16], result)
    return result
