"""`percmusic rm RUN|MODEL...`."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from percmusic_cli import api
from percmusic_cli.cli import output
from percmusic_cli.cli.state import options
from percmusic_cli.errors import UsageError
from percmusic_cli.render.safe import shown


def _describe(removal: api.Removal) -> str:
    lines = [f"run {shown(r)}" for r in removal.runs]
    lines += [f"model {shown(mid)} (checkpoints, loss history)" for mid in removal.models]
    if removal.latents:
        lines.append(f"{len(removal.latents)} latent sets of these models")
    lines += [f"feature set {h} (its images)" for h in removal.features]
    lines += [f"distance matrix {h} (its tiles and statistics)" for h in removal.distances]
    return "\n".join(f"  {line}" for line in lines)


def _ask(removal: api.Removal) -> bool:
    output.err.print(f"will remove:\n{_describe(removal)}", highlight=False, markup=False)
    return typer.confirm("remove them?", default=False, err=True)


def rm(
    ids: Annotated[
        list[str],
        typer.Argument(
            help="Run, model, feature-set or distance-matrix ids, or unambiguous prefixes."
        ),
    ],
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Do not ask (needed without a terminal).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="JSON summary on stdout.")] = False,
) -> None:
    """Remove runs, models, feature sets or distance matrices, with their files.

    A model goes with its latent arrays and checkpoints; a feature set with the distance
    matrices computed from it (ids: `feature_hash` and `dist_hash` of the store's
    feature_sets and distance_sets tables).

    Asks for confirmation unless --yes. A crash midway leaves a consistent store
    (`percmusic check` passes; `check --repair` clears what is left over). Runs that used
    a removed model are kept; the user-level model cache is not touched.

    Examples:

      percmusic rm knn-mse-291efd3e

      percmusic rm --yes ae-nlpd-noise-1a2b3c4d latent-ae-nlpd
    """
    if not yes and not sys.stdin.isatty():
        raise UsageError("rm asks for confirmation: run it in a terminal, or pass --yes")
    summary = api.remove(output.store(), ids, None if yes else _ask, wait_s=options().wait)
    if not summary["removed"]:
        output.warn("nothing removed")
        raise typer.Exit(1)
    lines = [f"removed run {r}" for r in summary["runs"]]
    lines += [f"removed model {m}" for m in summary["models"]]
    lines += [f"removed feature set {h}" for h in summary["features"]]
    lines += [f"removed distance matrix {h}" for h in summary["distances"]]
    output.emit(summary, as_json, "\n".join(lines))


def register(app: typer.Typer) -> None:
    app.command("rm")(rm)
