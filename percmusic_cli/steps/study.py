"""`reproduce --seeds N --folds K`: the study repeated over seeds and folds, summarised as
mean ± sd with two-level bootstrap intervals, and its claims as tested statements.

Each (fold, seed) is one plain `reproduce` (steps/reproduce.py) with seed `seed + s`: N
autoencoders per loss, N untrained initialisations, and the KNN / logistic-regression
selection and bootstrap seeded alike; every run is stored with its seed and reused on a
rerun. With K > 1 the all x all distance matrices are computed once and every fold reads
its blocks from them. The arms and claims come from experiments/claims.py (data), the
metrics from the registry: no metric is named here."""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from percmusic_cli.classifiers import registry as classifiers
from percmusic_cli.config import MAX_FOLDS, DistanceConfig, KnnConfig, check_int
from percmusic_cli.errors import DataError, UsageError
from percmusic_cli.execution import Session, as_session
from percmusic_cli.experiments.baseline import NOT_LEARNED_RATIO
from percmusic_cli.experiments.claims import (
    ArmSpec,
    evaluate_claims,
    gain_sentences,
    study_arms,
    study_claims,
)
from percmusic_cli.experiments.folds import small_test_hint
from percmusic_cli.experiments.hubness import HUBNESS_METHODS, hubness_report
from percmusic_cli.experiments.paired import ALPHA, Arm, ArmScores, arm_scores
from percmusic_cli.experiments.stats import chance_f1, encode
from percmusic_cli.hashing import param_hash
from percmusic_cli.metrics import registry
from percmusic_cli.progress import Reporter
from percmusic_cli.steps.distances import DistanceBlocks, compute_distances
from percmusic_cli.steps.folds import fold_views
from percmusic_cli.steps.knn import run_knn
from percmusic_cli.steps.predictions import run_predictions
from percmusic_cli.steps.reproduce import reproduce, study_metrics
from percmusic_cli.steps.train import find_model
from percmusic_cli.steps.views import SplitView
from percmusic_cli.store import Store
from percmusic_cli.store.studies import save_study

MIN_RESAMPLES, MAX_RESAMPLES = 100, 1_000_000
# The bootstrap p floor 2 / (B + 1) sits this many times below the smallest Holm
# threshold alpha / m, so a floor p never decides a verdict alone.
FLOOR_MARGIN = 10


def default_resamples(n_claims: int, alpha: float = ALPHA) -> int:
    """Resamples putting the p floor 2 / (B + 1) FLOOR_MARGIN times below alpha / m
    (rounded up to a thousand, at least 2000)."""
    need = 2.0 * FLOOR_MARGIN * max(n_claims, 1) / alpha
    return int(max(2000, math.ceil(need / 1000) * 1000))


def _arm_runs(
    result: dict[str, Any], extra: dict[str, dict[str, Any]], arms: Sequence[ArmSpec]
) -> dict[str, str]:
    """Arm name -> run id of one plain reproduce result (and its hubness KNN runs)."""
    by_metric = {row["metric"]: row for row in result["rows"]}
    controls = {c["metric"]: c for c in result["controls"]}
    # A study role ("knn", "ae") is a registered classifier's arm; its run kind keys the row.
    kinds = {spec.study_arm: spec.name for spec in classifiers.study_specs()}
    out = {}
    for a in arms:
        if a.role in kinds:
            out[a.name] = by_metric[a.metric][kinds[a.role]]["run_id"]
        elif a.role == "knn-hub":
            out[a.name] = extra[a.name]["run_id"]
        else:
            out[a.name] = controls[a.role]["run_id"]
    return out


def _arms(
    store: Store, per_fold: list[list[dict[str, str]]], classes: list[str]
) -> tuple[list[np.ndarray], dict[str, Arm]]:
    """Truth codes per fold and each arm's (seeds, tracks) prediction codes per fold."""
    truth: list[np.ndarray] = []
    stacks: dict[str, list[np.ndarray]] = {}
    for runs in per_fold:
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


def _summary(scores: dict[str, ArmScores], chance: float) -> dict[str, dict[str, Any]]:
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
            "at_or_below_chance": bool(s.point <= chance),
        }
    return out


def design(view: SplitView, views: Sequence[SplitView], seeds: int) -> dict[str, Any]:
    """The n of the design that ran: tracks, folds, test tracks per fold and per class."""
    per_class = [Counter(v.part_labels("test")) for v in views]
    classes = view.classes
    return {
        "tracks": len(views[0].rows["all"]),
        "classes": len(classes),
        "folds": len(views),
        "seeds": seeds,
        "evaluation": f"cv-{len(views)}" if len(views) > 1 else "valid",
        "train_tracks_per_fold": [len(v.rows["train"]) for v in views],
        "test_tracks_per_fold": [len(v.rows["test"]) for v in views],
        "test_tracks_per_class": {c: [pc.get(c, 0) for pc in per_class] for c in classes},
    }


def describe_design(n: dict[str, Any]) -> str:
    """'50 tracks, 5 folds x 10 test tracks (1 per class), 3 seeds' (a valid split: 'test')."""
    tests = sorted(set(n["test_tracks_per_fold"]))
    per = sorted({c for counts in n["test_tracks_per_class"].values() for c in counts})
    test = "/".join(map(str, tests))
    per_class = "-".join(map(str, [per[0], per[-1]] if per[0] != per[-1] else [per[0]]))
    cut = f"{n['folds']} folds x {test}" if n["folds"] > 1 else test
    seeds = f"{n['seeds']} seed{'s' if n['seeds'] > 1 else ''}"
    return f"{n['tracks']} tracks, {cut} test tracks ({per_class} per class), {seeds}"


def _matrices(
    store: Session | Store, view: SplitView, metrics: Sequence[str], folds: int, device: str
) -> dict[str, dict[str, Any]]:
    """Per metric: the distances refused when not finite, and their hubness report. With
    folds the all x all matrix (each track's neighbours among all others); with a valid
    split the test x train block (how often each train track is a test track's neighbour)."""
    out = {}
    for m in metrics:
        blocks = DistanceBlocks(store, view, DistanceConfig(metric=m, device=device))
        rows, cols = ("all", "all") if folds > 1 else ("test", "train")
        d = blocks.get(rows, cols)
        if not np.all(np.isfinite(d)):
            raise DataError(
                f"metric {m!r}: its stored distances hold NaN or infinite values; "
                "fix the metric and recompute them (`percmusic distances --force`)"
            )
        names = view.ids(cols)
        out[m] = hubness_report(d, names, square=folds > 1)
        out[m]["label"] = registry.get(m).label
        out[m]["over"] = f"{rows} x {cols}"
    return out


def _hub_runs(
    store: Session | Store,
    v: SplitView,
    metrics: Sequence[str],
    hubness: Sequence[str],
    seed: int,
    device: str,
    reporter: Reporter,
) -> dict[str, dict[str, Any]]:
    out = {}
    for h in hubness:
        rows = run_knn(
            store,
            v,
            list(metrics),
            KnnConfig(seed=seed),
            DistanceConfig(device=device),
            reporter,
            hubness=h,
        )
        for m, row in zip(metrics, rows, strict=True):
            out[f"knn-{h}:{m}"] = row
    return out


MAX_SEEDS = 100  # each seed trains one autoencoder per loss


def check_options(seeds: int, folds: int, resamples: int | None, hubness: Sequence[str]) -> None:
    check_int("--seeds", seeds, 1, MAX_SEEDS)
    check_int("--folds", folds, 1, MAX_FOLDS)
    if resamples is not None:
        check_int("--resamples", resamples, MIN_RESAMPLES, MAX_RESAMPLES)
    for h in hubness:
        if h not in HUBNESS_METHODS or h == "none":
            choices = ", ".join(x for x in HUBNESS_METHODS if x != "none")
            raise UsageError(f"--hubness {h!r}: choose one of {choices}")


def study(
    store: Session | Store,
    view: SplitView,
    preset: str = "default",
    device: str = "auto",
    reporter: Reporter | None = None,
    seed: int = 0,
    seeds: int = 1,
    folds: int = 1,
    metrics: Sequence[str] | None = None,
    resamples: int | None = None,
    hubness: Sequence[str] = (),
) -> dict[str, Any]:
    session = as_session(store, reporter)
    store, reporter = session.store, session.reporter
    hubness = list(dict.fromkeys(hubness))
    check_options(seeds, folds, resamples, hubness)
    metrics = list(study_metrics(metrics))
    labels = {m: registry.get(m).label for m in metrics}
    arm_specs = study_arms(metrics, hubness)
    claim_specs = study_claims(metrics, labels, hubness)
    n_boot = resamples or default_resamples(len(claim_specs))
    started = time.monotonic()
    views = [view] if folds == 1 else fold_views(view, folds, seed)
    n = design(view, views, seeds)
    reporter.log(f"reproduce: {describe_design(n)}")
    if folds > 1:
        reporter.log(f"reproduce: all x all distances once for {folds} folds")
        compute_distances(session, view, metrics, "all", DistanceConfig(device=device))
    hubs = _matrices(session, view, metrics, folds, device)
    per_fold, arm_ids = [], []
    for i, v in enumerate(views, start=1):
        results, ids = [], []
        for s in range(seeds):
            reporter.log(f"reproduce: fold {i}/{len(views)}, seed {seed + s}")
            r = reproduce(session, v, preset, device, reporter, seed=seed + s, metrics=metrics)
            extra = _hub_runs(session, v, metrics, hubness, seed + s, device, reporter)
            results.append(r)
            ids.append(_arm_runs(r, extra, arm_specs))
        per_fold.append(results)
        arm_ids.append(ids)
    truth, arms = _arms(store, arm_ids, view.classes)
    chance = float(np.mean([chance_f1(t, len(view.classes)) for t in truth]))
    scores = arm_scores(truth, arms, len(view.classes), n_boot, seed)
    ratio = float(np.mean(n["test_tracks_per_fold"]) / np.mean(n["train_tracks_per_fold"]))
    claims = evaluate_claims(claim_specs, scores, folds, ratio)
    learning = _learning(store, per_fold)
    for c in claims:
        if c["kind"] in ("paper", "representation", "training") and c["metric"] in learning:
            c["loss_ratio"] = learning[c["metric"]]["mean_ratio"]
            c["not_learned"] = learning[c["metric"]]["not_learned"]
            c["n_models"] = len(learning[c["metric"]]["ratios"])
    hint = small_test_hint(views[0].part_labels("test"), seeds=seeds, folds=folds)
    result = {
        **per_fold[0][0],
        "split": view.split,  # the stored split, not the first fold's name
        "evaluation": n["evaluation"],
        "metrics": metrics,
        "labels": labels,
        "arms": [vars(a) for a in arm_specs],
        "hubness_arms": hubness,
        "seeds": seeds,
        "folds": folds,
        "first_seed": seed,
        "n": n,
        "design": describe_design(n),
        "test_tracks_per_fold": [len(t) for t in truth],
        "chance_f1": chance,
        "summary": _summary(scores, chance),
        "claims": claims,
        "gain": gain_sentences(claims, labels),
        "hubness": hubs,
        "learning": learning,
        "hints": [hint] if hint else [],
        "n_boot": n_boot,
        "p_floor": 2.0 / (n_boot + 1),
        "wall_s": round(time.monotonic() - started, 1),
    }
    # Extras enter the key only when set, so the paper's study keeps its stored id.
    extra_key: list[object] = [] if metrics == list(registry.study_names()) else [metrics]
    extra_key += [hubness] if hubness else []
    extra_key += [n_boot] if resamples is not None else []
    study_id = param_hash(
        view.dataset, view.split, view.feature_hash, preset, seed, seeds, folds, *extra_key
    )
    with store.connect() as con:
        save_study(con, study_id[:16], result)
    return result
