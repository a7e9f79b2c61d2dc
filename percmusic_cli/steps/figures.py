"""The data behind the study's figures, assembled from stored results: one `FigureData`
per figure, each a few long-format tables. The renderer (`render/figures.py`) draws only
from these tables and writes them beside the figure as CSV, so a figure can be re-plotted
from its CSV alone; tests snapshot these tables, not pixels.

fig1  per-metric violins: distances within each genre against all pairs
fig1b pooled within-genre against between-genre pairs, ratio of means and AUC
fig2  F1 against k of the KNN runs (valid, and test where stored)
fig3  KNN confusion matrices side by side (one per metric)
fig4  logistic-regression (latent) confusion matrices side by side
fig5  training loss curves with the trivial baseline
fig6  the study table"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from percmusic_cli import metric_names
from percmusic_cli.classifiers import registry as classifiers
from percmusic_cli.errors import DataError
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


def distance_figures(store: Store, dataset: str) -> list[FigureData]:
    """Fig. 1 and its pooled companion from the stored all x all matrices."""
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
        grid, dens = densities(groups)
        for name, values in dens.items():
            violins += [(metric, name, float(x), y) for x, y in zip(grid, values, strict=True)]
        summary += [
            (metric, s["group"], s["n"], s.get("mean"), s.get("median"), s.get("q05"), s.get("q95"))
            for s in distance_summary(groups)
        ]
        within, between = pooled_pairs(d, labels)
        grid, dens = densities({"within": within, "between": between})
        for name, values in dens.items():
            pooled += [(metric, name, float(x), y) for x, y in zip(grid, values, strict=True)]
        s = separation(within, between)
        seps.append(
            (metric, s.n_within, s.n_between, s.mean_within, s.mean_between, s.ratio, s.auc)
        )
    density_cols = ("metric", "group", "distance", "density")
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
    rows: list[Row] = []
    notes = []
    for run in runs:
        spec = classifiers.find(run["kind"])
        if spec is None or not spec.curve_figure:
            continue
        curve = run["result"]["curve"]
        for part, c in (("valid", curve), ("test", run["result"].get("test_curve"))):
            if c is None:
                continue
            method = c.get("method", part) if part == "valid" else "test"
            rows += [
                (run["run_id"], run["name"], method, float(k), f, float(k) == float(c["chosen"]))
                for k, f in zip(c["values"], c["scores"], strict=True)
            ]
        if run["result"].get("test_curve") is None:
            notes.append(f"{run['run_id']}: no test F1 against k stored; valid only")
    return FigureData(
        "fig2-f1-vs-k",
        "Weighted F1 against k (KNN)",
        "curves",
        {"curve": Table(("run_id", "metric", "part", "k", "f1", "chosen"), rows)},
        notes[:1] and ["test F1 against k is not stored by `knn`: the curves are selection scores"],
    )


def confusion_figure(runs: list[dict[str, Any]], kind: str) -> FigureData:
    rows: list[Row] = []
    for run in sorted(
        (r for r in runs if r["kind"] == kind), key=lambda r: _metric_order(r["name"])
    ):
        ev = run["result"]["evaluation"]
        for i, true in enumerate(ev["labels"]):
            rows += [
                (run["run_id"], run["name"], true, pred, int(ev["confusion"][i][j]))
                for j, pred in enumerate(ev["labels"])
            ]
    spec = classifiers.get(kind)
    return FigureData(
        spec.figure_name,
        spec.figure_heading,
        "confusions",
        {"confusion": Table(("run_id", "metric", "true", "pred", "count"), rows)},
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
    rows: list[Row] = []
    baselines: list[Row] = []
    missing = []
    with store.connect(read_only=True) as con:
        for listed in sm.list_models(con):
            model = sm.get_model(con, listed["model_id"]) or listed
            rows += [
                (model["model_id"], model["loss"], step, value)
                for step, value in sm.history(con, model["model_id"])
            ]
            found = _baseline(model)
            if found is None:
                missing.append(model["model_id"])
            else:
                baselines.append((model["model_id"], model["loss"], found[0], found[1]))
    notes = (
        [f"no trivial baseline recorded for {', '.join(missing)}: drawn for MSE only (1/12)"]
        if missing
        else []
    )
    return FigureData(
        "fig5-training-loss",
        "Training loss against step",
        "loss",
        {
            "loss": Table(("model_id", "loss", "step", "value"), rows),
            "baseline": Table(("model_id", "loss", "value", "source"), baselines),
        },
        notes,
    )


def table_figure(runs: list[dict[str, Any]], listed: list[dict[str, Any]]) -> FigureData:
    wanted = {r["run_id"] for r in runs}
    cols = (
        "run_id",
        "kind",
        "metric",
        "split",
        "param_name",
        "param",
        "valid_f1",
        "test_f1",
        "test_f1_low",
        "test_f1_high",
        "accuracy",
    )
    rows = [tuple(r.get(c) for c in cols) for r in listed if r["run_id"] in wanted]
    return FigureData(
        "fig6-study-table", "Test weighted F1 [95% CI]", "table", {"table": Table(cols, rows)}
    )


def figure_data(
    store: Store, run_refs: Sequence[str] = (), dataset: str | None = None
) -> list[FigureData]:
    """Every figure's data from what the store holds (a figure with nothing to show says
    why in its notes)."""
    from percmusic_cli.steps import common

    name = common.resolve_dataset(store, dataset)
    runs = _runs(store, run_refs, name if not run_refs else None)
    with store.connect(read_only=True) as con:
        listed = sr.list_runs(con)
    return [
        *distance_figures(store, name),
        curve_figure(runs),
        *(confusion_figure(runs, kind) for kind in classifiers.names()),
        loss_figure(store),
        table_figure(runs, listed),
    ]
