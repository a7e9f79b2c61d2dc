"""`percmusic classify`."""

from __future__ import annotations

from typing import Annotated

import typer

from percmusic_cli import api
from percmusic_cli.cli import output
from percmusic_cli.cli.options import AllowDegenerate
from percmusic_cli.cli.state import options
from percmusic_cli.config import ClassifyConfig


def classify(
    model: Annotated[
        str | None,
        typer.Option(
            help="Model id (or unique prefix) from `percmusic train`, or a checkpoint folder."
        ),
    ] = None,
    pool: Annotated[
        str,
        typer.Option(
            help="meanstd: mean and std over time of each latent channel and frequency row; "
            "mean: the mean only."
        ),
    ] = "meanstd",
    controls: Annotated[
        bool,
        typer.Option(
            help="Also run the controls: raw pooled spectrograms and an untrained autoencoder."
        ),
    ] = True,
    n_boot: Annotated[
        int, typer.Option(help="Bootstrap resamples for the CIs (0 to 100000).")
    ] = 1000,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap and the untrained model.")] = 0,
    dataset: Annotated[str | None, typer.Option(help="Dataset (default: the only one).")] = None,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "auto",
    force: Annotated[bool, typer.Option("--force", help="Rerun even if stored.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
    allow_degenerate: AllowDegenerate = False,
) -> None:
    """Experiment 2: latent features to logistic regression (C chosen on validation).

    Examples:

      percmusic classify --model ae-nlpd

      percmusic classify --no-controls --model ae-mse-noise-1a2b3c4d
    """
    from percmusic_cli.render.tables import runs_table

    cfg = ClassifyConfig(pool=pool, n_boot=n_boot, seed=seed, device=device)
    rows = api.classify(
        output.store(),
        model,
        cfg,
        dataset=dataset,
        controls=controls,
        reporter=output.RichReporter(),
        force=force,
        wait_s=options().wait,
        allow_degenerate=allow_degenerate,
    )
    output.emit(
        rows,
        as_json,
        runs_table(rows, title="latent features + logistic regression", width=output.out.width),
    )


def register(app: typer.Typer) -> None:
    app.command("classify")(classify)
