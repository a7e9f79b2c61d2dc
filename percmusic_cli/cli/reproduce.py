"""`percmusic reproduce` and `percmusic demo`."""

from __future__ import annotations

from typing import Annotated

import typer

from percmusic_cli import api
from percmusic_cli.cli import output
from percmusic_cli.cli.options import AllowDegenerate
from percmusic_cli.cli.state import options
from percmusic_cli.config import PRESETS


def reproduce(
    quick: Annotated[
        bool,
        typer.Option(
            "--quick", help="Small presets: minutes on 2 CPU cores (same as --preset quick)."
        ),
    ] = False,
    preset: Annotated[
        str, typer.Option(help=f"{', '.join(PRESETS)} (training sizes).")
    ] = "default",
    dataset: Annotated[str | None, typer.Option(help="Dataset (default: the only one).")] = None,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "auto",
    seed: Annotated[
        int, typer.Option(help="First seed of training, bootstrap, folds and controls.")
    ] = 0,
    seeds: Annotated[
        int,
        typer.Option(
            help="Repeat with N seeds (seed, seed+1, ...): N autoencoders per loss, N "
            "untrained controls; the table shows mean ± sd. Example: --seeds 3.",
            min=1,
        ),
    ] = 1,
    folds: Annotated[
        int,
        typer.Option(
            help="Repeat over K-fold stratified cross-validation of the split's tracks "
            "(each track tested once); mean ± sd over folds. Example: --folds 5.",
            min=1,
        ),
    ] = 1,
    metrics: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated registered metrics to study (default: the paper's "
            "three). Example: --metrics mse,msssim,nlpd,l1.",
        ),
    ] = None,
    resamples: Annotated[
        int | None,
        typer.Option(
            help="Bootstrap resamples of the claims (100 to 1000000; default: enough to "
            "put the p floor 10x below every Holm threshold)."
        ),
    ] = None,
    hubness: Annotated[
        str | None,
        typer.Option(
            help="Add KNN arms on hubness-reduced distances: mp, mp-gauss or ls, "
            "comma-separated. Example: --hubness mp."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
    allow_degenerate: AllowDegenerate = False,
) -> None:
    """Run the whole study on the ingested, filtered dataset and print its table,
    then the study's claims as tested rows (difference, 95% CI, Holm p, verdict).

    Distances and KNN for the three metrics, three autoencoders trained on noise,
    logistic regression on their latents, and the controls. Reuses what is stored.

    Examples:

      percmusic reproduce --quick

      percmusic reproduce --quick --seeds 3 --folds 5

      percmusic reproduce --preset gpu --device cuda
    """
    from percmusic_cli.render.study import reproduce_tables

    result = api.reproduce(
        output.store(),
        dataset,
        "quick" if quick else preset,
        device,
        reporter=output.RichReporter(),
        wait_s=options().wait,
        seed=seed,
        seeds=seeds,
        folds=folds,
        allow_degenerate=allow_degenerate,
        metrics=metrics.split(",") if metrics else None,
        resamples=resamples,
        hubness=[h.strip() for h in hubness.split(",") if h.strip()] if hubness else None,
    )
    for hint in result.get("hints", []):
        output.note(hint)
    output.emit(result, as_json, *reproduce_tables(result))


def demo(
    clips_per_class: Annotated[
        int, typer.Option(help="Synthetic clips per class (4 to 1000).")
    ] = 20,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "auto",
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
) -> None:
    """The study (`reproduce --quick`) on the embedded synthetic dataset, one seed and one
    fold: ingest, filter, features, distances, KNN, autoencoders, logistic regression,
    controls; ends with the study's table and claims, stored for the dashboard.

    Example:

      percmusic --store demo-store demo
    """
    from percmusic_cli.render.study import reproduce_tables

    result = api.demo(
        output.store(create=True),
        reporter=output.RichReporter(),
        device=device,
        wait_s=options().wait,
        clips_per_class=clips_per_class,
    )
    output.emit(result, as_json, *reproduce_tables(result))


def register(app: typer.Typer) -> None:
    app.command("reproduce")(reproduce)
    app.command("demo")(demo)
