"""The data behind the study's figures, assembled from stored results: one `FigureData`
per figure, each a few long-format tables. The renderer (`render/figures.py`) draws only
from these tables and writes them beside the figure as CSV, so a figure can be re-plotted
from its CSV alone; tests snapshot these tables, not pixels.

fig1  per-metric violins: distances within each genre against all pairs
fig1b pooled within-genre against between-genre pairs, ratio of means and AUC
fig2  F1 against k of the KNN arms: mean over folds and seeds with a ±sd band
fig3  KNN confusion matrices, one per arm, summed over folds and seeds
fig4  logistic-regression confusion matrices, one per arm (losses and controls), summed
fig5  training loss curves, one panel per loss (each seed a line), with the trivial baseline
fig6  the study table: one row per arm, mean test F1 over its runs
fig7  the claims of the last `reproduce`: a forest plot of differences and CIs

A repeated study stores one run per arm, fold and seed; every figure groups them by arm
(classifier, metric, hubness reduction), so no figure has more than one panel per metric
and arm. Only one design is drawn: that of the newest run (its split, or its K folds).
Axis and panel titles use the registry's labels (MSE, 1 - MS-SSIM, NLPD), not names."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from percmusic_cli import metric_names
from percmusic_cli.classifiers import registry as classifiers
from percmusic_cli.errors import DataError, UsageError
from percmusic_cli.experiments.figure_data import FigureData, Row, Table
from percmusic_cli.store import Store
from percmusic_cli.store import models as sm
from percmusic_cli.store import runs as sr

# MSE between i.i.d. U(0, 1) noise and the best constant guess (0.5) is Var U(0, 1) = 1/12:
# the loss an autoencoder reaches by learning nothing, for the MSE loss only.
MSE_NOISE_BASELINE = 1 / 12


def _metric_order(name: str) -> tuple[int, str]:
    order = metric_names.names()
    return (order.index(name) if name in order else len(order), name)


CONTROL_LABELS = {"raw": "raw pooled", "untrained": "untrained encoder"}


def metric_label(name: str) -> str:
    """The registry's label of a metric (MSE, 1 - MS-SSIM, NLPD); a control's plain name;
    the name itself for a metric no longer registered."""
    if name in CONTROL_LABELS:
        return CONTROL_LABELS[name]
    from percmusic_cli.metrics import registry

    try:
        return registry.get(name).label
    except UsageError:
        return name


_FOLD = re.compile(r"/fold(\d+)of(\d+)-s(-?\d+)$")


def design_of(split: str) -> tuple[str, int | None]:
    """(design, fold number): a fold run's split 'random/fold2of5-s0' is design
    'random, cv-5 (folds from seed 0)', fold 2; any other split is its own design."""
    m = _FOLD.search(split)
    if m is None:
        return split, None
    return f"{split[: m.start()]}, cv-{m.group(2)} (folds from seed {m.group(3)})", int(m.group(1))


def arm_of(run: dict[str, Any]) -> str:
    """The arm a run belongs to, as a label: 'KNN: MSE', 'KNN mp: NLPD', 'AE+LR: MSE',
    'LR: raw pooled'."""
    label = metric_label(run["name"])
    if run["name"] in CONTROL_LABELS:
        return f"LR: {label}"
    if run["kind"] == "latent":
        return f"AE+LR: {label}"
    # Any other classifier is named by its registered label (KNN, NC, a plugin's).
    spec = classifiers.find(run["kind"])
    what = spec.label if spec is not None else str(run["kind"])
    hub = (run.get("config") or {}).get("hubness", "none")
    return f"{what}: {label}" if hub == "none" else f"{what} {hub}: {label}"


def one_design(runs: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], str, list[str]]:
    """The runs of the newest run's design, the latest per (arm, fold, seed); a note
    names what was left out."""
    if not runs:
        return [], "", []
    newest = max(runs, key=lambda r: str(r.get("created_at") or ""))
    design = design_of(newest["split"])[0]
    kept: dict[tuple[str, str, Any], dict[str, Any]] = {}
    for r in sorted(runs, key=lambda r: str(r.get("created_at") or "")):
        if design_of(r["split"])[0] == design:
            kept[(arm_of(r), r["split"], r.get("seed"))] = r
    out = list(kept.values())
    left = len(runs) - len(out)
    notes = [f"{left} run(s) of other designs or superseded left out: name runs to draw them"]
    return out, design, notes if left else []


def repeats(runs: Sequence[dict[str, Any]]) -> str:
    """'5 folds x 3 seeds' (or '1 run') of the runs drawn."""
    folds = {design_of(r["split"])[1] for r in runs}
    seeds = {r.get("seed") for r in runs}
    if len(folds) <= 1 and len(seeds) <= 1:
        return "1 run"
    return f"{len(folds)} fold(s) x {len(seeds)} seed(s)"


def distance_figures(store: Store, dataset: str) -> list[FigureData]:
    """Fig. 1 and its pooled companion from the stored all x all matrices."""
    from percmusic_cli.experiments.distributions import density
    from percmusic_cli.experiments.separation import densities, pooled_pairs, separation
    from percmusic_cli.experiments.stats import distance_groups, distance_summary
    from percmusic_cli.steps.browse import all_pair_matrices

    matrices = all_pair_matrices(store, dataset)
    if not matrices:
        note = f"no all x all distances for {dataset!r}: run `percmusic distances stats`"
        return [FigureData("fig1-distances", "Fig. 1", "violins", {}, [note])]
    violins, summary, pooled, seps = [], [], [], []
    for metric in sorted(matrices, key=_metric_order):
        d, labels = matrices[metric]
        groups = distance_groups(d, labels)
        label = metric_label(metric)
        for name, values in groups.items():
            if not values.size:
                continue
            # Each violin on its own range: no tail across the pooled range.
            lo, hi = float(values.min()), float(values.max())
            grid = np.linspace(lo, hi, 64)
            dens = density(values, lo, hi, 64)
            violins += [(metric, label, name, float(x), y) for x, y in zip(grid, dens, strict=True)]
        summary += [
            (metric, s["group"], s["n"], s.get("mean"), s.get("median"), s.get("q05"), s.get("q95"))
            for s in distance_summary(groups)
        ]
        within, between = pooled_pairs(d, labels)
        grid, dens_p = densities({"within": within, "between": between})
        for name, pvals in dens_p.items():
            pooled += [(metric, label, name, float(x), y) for x, y in zip(grid, pvals, strict=True)]
        s = separation(within, between)
        seps.append(
            (metric, s.n_within, s.n_between, s.mean_within, s.mean_between, s.ratio, s.auc)
        )
    density_cols = ("metric", "label", "group", "distance", "density")
    return [
        FigureData(
            "fig1-distances",
            "Distances within each genre and over all pairs",
            "violins",
            {
                "density": Table(density_cols, violins),
                "summary": Table(("metric", "group", "n", "mean", "median", "q05", "q95"), summary),
            },
        ),
        FigureData(
            "fig1b-within-between",
            "Within-genre against between-genre distances",
            "separation",
            {
                "density": Table(density_cols, pooled),
                "separation": Table(
                    (
                        "metric",
                        "n_within",
                        "n_between",
                        "mean_within",
                        "mean_between",
                        "ratio_of_means",
                        "auc",
                    ),
                    seps,
                ),
            },
        ),
    ]


def _runs(store: Store, refs: Sequence[str], dataset: str | None) -> list[dict[str, Any]]:
    """The named runs (ids or unique prefixes), else every stored run (of `dataset`)."""
    with store.connect(read_only=True) as con:
        if not refs:
            ids = [r["run_id"] for r in sr.list_runs(con, dataset=dataset)]
        else:
            ids = []
            for ref in refs:
                run = sr.get_run(con, ref)
                if run is None:
                    raise DataError(f"no run {ref!r} in the store (see `percmusic results`)")
                ids.append(run["run_id"])
        return [r for r in (sr.get_run(con, i) for i in dict.fromkeys(ids)) if r is not None]


def curve_figure(runs: list[dict[str, Any]]) -> FigureData:
    """Per KNN arm and part: weighted F1 against k, mean and sd over the arm's runs."""
    scores: dict[tuple[str, str, str, float], list[float]] = {}
    chosen: dict[tuple[str, str], list[float]] = {}
    knn = [r for r in runs if (s := classifiers.find(r["kind"])) is not None and s.curve_figure]
    for run in knn:
        arm, label = arm_of(run), metric_label(run["name"])
        curve = run["result"]["curve"]
        for part, c in (("valid", curve), ("test", run["result"].get("test_curve"))):
            if c is None:
                continue
            method = c.get("method", part) if part == "valid" else "test"
            for k, f in zip(c["values"], c["scores"], strict=True):
                scores.setdefault((arm, label, method, float(k)), []).append(float(f))
            if part == "valid":
                chosen.setdefault((arm, method), []).append(float(c["chosen"]))
    rows: list[Row] = []
    for (arm, label, part, k), fs in scores.items():
        picks = chosen.get((arm, part), [])
        rows.append(
            (
                arm,
                label,
                part,
                k,
                float(np.mean(fs)),
                float(np.std(fs, ddof=1)) if len(fs) > 1 else 0.0,
                len(fs),
                sum(p == k for p in picks),
            )
        )
    missing = any(r["result"].get("test_curve") is None for r in knn)
    return FigureData(
        "fig2-f1-vs-k",
        f"Weighted F1 against k (KNN; mean ± sd over {repeats(knn)})",
        "curves",
        {"curve": Table(("arm", "label", "part", "k", "mean", "sd", "runs", "chosen"), rows)},
        ["test F1 against k is not stored by `knn`: the curves are selection scores"]
        if missing
        else [],
    )


def confusion_figure(runs: list[dict[str, Any]], kind: str) -> FigureData:
    """One confusion matrix per arm, summed over the arm's folds and seeds (each test
    track counted once per seed)."""
    counts: dict[tuple[str, str, str, str], int] = {}
    n_runs: dict[str, int] = {}
    mine = sorted((r for r in runs if r["kind"] == kind), key=lambda r: _metric_order(r["name"]))
    for run in mine:
        arm, label = arm_of(run), metric_label(run["name"])
        n_runs[arm] = n_runs.get(arm, 0) + 1
        ev = run["result"]["evaluation"]
        for i, true in enumerate(ev["labels"]):
            for j, pred in enumerate(ev["labels"]):
                key = (arm, label, true, pred)
                counts[key] = counts.get(key, 0) + int(ev["confusion"][i][j])
    rows: list[Row] = [(*key, n, n_runs[key[0]]) for key, n in counts.items()]
    spec = classifiers.get(kind)
    return FigureData(
        spec.figure_name,
        f"{spec.figure_heading}, summed over {repeats(mine)}",
        "confusions",
        {"confusion": Table(("arm", "label", "true", "pred", "count", "runs"), rows)},
    )


def _baseline(model: dict[str, Any]) -> tuple[float, str] | None:
    """The recorded trivial baseline of the model when the store has one, else 1/12 for
    an MSE model trained on noise, else None."""
    for key in ("baseline_loss", "baseline"):
        if model.get(key) is not None:
            return float(model[key]), "recorded"
    cfg = model.get("train_config") or {}
    if model["loss"] == "mse" and model.get("data", cfg.get("data")) == "noise":
        return MSE_NOISE_BASELINE, "1/12: MSE of predicting 0.5 for U(0,1) noise"
    return None


def loss_figure(store: Store) -> FigureData:
    """Every model's loss against step, one panel per loss (the label column)."""
    rows: list[Row] = []
    baselines: list[Row] = []
    missing = []
    with store.connect(read_only=True) as con:
        for listed in sm.list_models(con):
            model = sm.get_model(con, listed["model_id"]) or listed
            label = metric_label(model["loss"])
            rows += [
                (model["model_id"], model["loss"], label, step, value)
                for step, value in sm.history(con, model["model_id"])
            ]
            found = _baseline(model)
            if found is None:
                missing.append(model["model_id"])
            else:
                baselines.append((model["model_id"], model["loss"], label, found[0], found[1]))
    notes = (
        [f"no trivial baseline recorded for {', '.join(missing)}: drawn for MSE only (1/12)"]
        if missing
        else []
    )
    return FigureData(
        "fig5-training-loss",
        "Training loss against step (one line per model)",
        "loss",
        {
            "loss": Table(("model_id", "loss", "label", "step", "value"), rows),
            "baseline": Table(("model_id", "loss", "label", "value", "source"), baselines),
        },
        notes,
    )


def table_figure(runs: list[dict[str, Any]], listed: list[dict[str, Any]]) -> FigureData:
    """One row per arm: its runs' mean test weighted F1, sd and range."""
    arms = {r["run_id"]: arm_of(r) for r in runs}
    scores: dict[str, list[float]] = {}
    for r in listed:
        if r["run_id"] in arms and r.get("test_f1") is not None:
            scores.setdefault(arms[r["run_id"]], []).append(float(r["test_f1"]))
    rows: list[Row] = [
        (
            arm,
            len(fs),
            float(np.mean(fs)),
            float(np.std(fs, ddof=1)) if len(fs) > 1 else None,
            float(min(fs)),
            float(max(fs)),
        )
        for arm, fs in scores.items()
    ]
    return FigureData(
        "fig6-study-table",
        f"Test weighted F1 per arm over {repeats(runs)}",
        "table",
        {"table": Table(("arm", "runs", "mean_test_f1", "sd", "min", "max"), rows)},
    )


def claims_figure(store: Store) -> FigureData:
    """The last study's claims: difference, unadjusted CI, Holm-adjusted significance."""
    from percmusic_cli.store.studies import latest_study

    with store.connect(read_only=True) as con:
        found = latest_study(con)
    if not found or not found.get("claims"):
        return FigureData(
            "fig7-claims", "Claims", "forest", {}, ["no study stored: run `percmusic reproduce`"]
        )
    rows: list[Row] = [
        (
            c["claim"],
            c.get("metric"),
            metric_label(c["metric"]) if c.get("metric") else "",
            c["kind"],
            c["diff"],
            c["low"],
            c["high"],
            c["p_holm"],
            bool(c["p_holm"] < 0.05),
            c["verdict"],
        )
        for c in found["claims"]
    ]
    cols = ("claim", "metric", "label", "kind", "diff", "low", "high", "p_holm", "holm_significant")
    return FigureData(
        "fig7-claims",
        "Claims: difference in test weighted F1 with unadjusted 95% CI "
        "(filled: Holm-adjusted p < 0.05)",
        "forest",
        {"claims": Table((*cols, "verdict"), rows)},
    )


def figure_data(
    store: Store, run_refs: Sequence[str] = (), dataset: str | None = None
) -> list[FigureData]:
    """Every figure's data from what the store holds (a figure with nothing to show says
    why in its notes)."""
    from percmusic_cli.steps import common

    name = common.resolve_dataset(store, dataset)
    runs, _, left_out = one_design(_runs(store, run_refs, name if not run_refs else None))
    with store.connect(read_only=True) as con:
        listed = sr.list_runs(con)
    figures = [
        *distance_figures(store, name),
        curve_figure(runs),
        *(confusion_figure(runs, kind) for kind in classifiers.names()),
        loss_figure(store),
        table_figure(runs, listed),
        claims_figure(store),
    ]
    if left_out:
        figures[len(figures) - 5].notes.extend(left_out)  # said once, under fig2
    return figures
