"""`percmusic knn`."""

from __future__ import annotations

from typing import Annotated

import typer

from percmusic_cli import api
from percmusic_cli.cli import output
from percmusic_cli.cli.distances import METRIC_HELP
from percmusic_cli.cli.options import AllowDegenerate
from percmusic_cli.cli.state import options
from percmusic_cli.config import DistanceConfig, KnnConfig


def knn(
    metric: Annotated[str, typer.Option(help=METRIC_HELP)] = "all",
    k_max: Annotated[int, typer.Option(help="Largest k tried.")] = 50,
    weights: Annotated[str, typer.Option(help="uniform or distance.")] = "uniform",
    select_on: Annotated[
        str,
        typer.Option(
            help="valid, or cv (stratified cross-validation on train; automatic when there "
            "is no usable validation part)."
        ),
    ] = "valid",
    refit: Annotated[str, typer.Option(help="train, or train+valid.")] = "train",
    n_boot: Annotated[
        int, typer.Option(help="Bootstrap resamples for the CIs (0 to 100000).")
    ] = 1000,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap and the CV folds.")] = 0,
    dataset: Annotated[str | None, typer.Option(help="Dataset (default: the only one).")] = None,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda (for distances).")] = "auto",
    hubness: Annotated[
        str,
        typer.Option(
            help="Hubness reduction of the stored distances: none, mp (mutual proximity), "
            "mp-gauss (Gaussian mutual proximity) or ls (local scaling)."
        ),
    ] = "none",
    force: Annotated[bool, typer.Option("--force", help="Rerun even if stored.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
    allow_degenerate: AllowDegenerate = False,
) -> None:
    """Experiment 1: each metric as the distance of a KNN genre classifier.

    k is chosen per metric by weighted F1 on the validation set (ties: smaller k), the
    model refit and scored on test with 95% bootstrap CIs; each metric is a stored run.

    Examples:

      percmusic knn --metric all

      percmusic knn --metric nlpd --weights distance --refit train+valid
    """
    from percmusic_cli.render.tables import runs_table

    cfg = KnnConfig(
        k_max=k_max, weights=weights, select_on=select_on, refit=refit, n_boot=n_boot, seed=seed
    )
    rows = api.knn(
        output.store(),
        dataset,
        metric,
        cfg,
        DistanceConfig(device=device),
        reporter=output.RichReporter(),
        force=force,
        wait_s=options().wait,
        allow_degenerate=allow_degenerate,
        hubness=hubness,
    )
    output.emit(
        rows, as_json, runs_table(rows, title="KNN on perceptual distances", width=output.out.width)
    )
    for note in dict.fromkeys(n for r in rows for n in r["notes"]):
        output.note(f"note: {note}")


def register(app: typer.Typer) -> None:
    app.command("knn")(knn)
