"""`percmusic figures`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from percmusic_cli import api
from percmusic_cli.cli import outdir, output
from percmusic_cli.render import safe

FORMATS = ("pdf", "svg", "png")  # render.figures.FORMATS, kept here so --help needs no import


def figures(
    runs: Annotated[
        list[str] | None,
        typer.Argument(
            help="Run ids or unique prefixes (default: every run of the dataset).",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Folder for the figures and their CSV (default: STORE/figures)."
        ),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="pdf, svg or png.")] = "pdf",
    dataset: Annotated[str | None, typer.Option(help="Dataset (default: the only one).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
) -> None:
    """The study's figures for a paper, each with its data as CSV beside it.

    Fig. 1 distances within each genre and over all pairs, and pooled within- against
    between-genre with the ratio of means and AUC; Fig. 2 F1 against k; Figs. 3 and 4
    KNN and LR confusion matrices; training loss with the trivial baseline; the study table.

    Examples:

      percmusic figures --out paper/figs --format pdf

      percmusic figures knn-nlpd knn-mse --format svg
    """
    if fmt not in FORMATS:
        raise typer.BadParameter(f"choose one of {', '.join(FORMATS)}", param_hint="--format")
    store = output.session().store
    # Refused before anything is computed: a bad --out is said first and alone.
    folder = outdir.prepare(out) if out is not None else store.root / "figures"
    data = api.figure_data(store, runs or [], dataset)
    from percmusic_cli.render.figures import write_figures

    for fig in data:
        for note in fig.notes:
            output.note(f"{fig.name}: {note}")
    try:
        paths = write_figures(data, folder, fmt)
    except OSError as exc:  # full disk, a file name too long for this file system, ...
        raise outdir.write_failed(folder, exc) from None
    table = Table("file", title="figures written")
    for path in paths:
        table.add_row(safe.text(path))
    output.emit([str(p) for p in paths], as_json, table)


def register(app: typer.Typer) -> None:
    app.command("figures")(figures)
