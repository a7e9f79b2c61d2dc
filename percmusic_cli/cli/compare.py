"""`percmusic compare RUN_A RUN_B [...]`."""

from __future__ import annotations

import csv
import sys
from typing import Annotated

import typer

from percmusic_cli import api
from percmusic_cli.cli import output


def compare(
    runs: Annotated[
        list[str], typer.Argument(help="Two or more run ids (or unique prefixes) to compare.")
    ],
    n_boot: Annotated[
        int, typer.Option("--n-boot", help="Bootstrap resamples. Example: --n-boot 5000.", min=100)
    ] = 1000,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap resamples.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV on stdout, one row per pair.")] = False,
) -> None:
    """Is the difference real? Paired comparison of runs on the same test tracks.

    Weighted F1: difference with a 95% CI and a two-sided p from a paired bootstrap (the
    same resamples of the test tracks for both runs). Accuracy: McNemar's exact test on
    per-track correctness. With more than two runs, p values are Holm-corrected over all
    pairs. Runs on different test sets are refused.

    Examples:

      percmusic compare knn-mse latent-mse

      percmusic compare knn-mse knn-msssim knn-nlpd --csv > pairs.csv
    """
    from percmusic_cli.render.compare import CSV_KEYS, compare_tables

    result = api.compare(output.store(), list(runs), n_boot=n_boot, seed=seed)
    if as_csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=CSV_KEYS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(result["pairs"])
        return
    output.emit(result, as_json, *compare_tables(result))


def register(app: typer.Typer) -> None:
    app.command("compare")(compare)
