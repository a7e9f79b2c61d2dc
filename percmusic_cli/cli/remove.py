"""`percmusic rm RUN|MODEL...`."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from percmusic_cli import api
from percmusic_cli.cli import output
from percmusic_cli.cli.state import options
from percmusic_cli.errors import UsageError


def _describe(removal: api.Removal) -> str:
    lines = [f"run {r}" for r in removal.runs]
    lines += [f"model {mid} (checkpoints, loss history)" for mid in removal.models]
    if removal.latents:
        lines.append(f"{len(removal.latents)} latent sets of these models")
    return "\n".join(f"  {line}" for line in lines)


def _ask(removal: api.Removal) -> bool:
    output.err.print(f"will remove:\n{_describe(removal)}", highlight=False, markup=False)
    return typer.confirm("remove them?", default=False, err=True)


def rm(
    ids: Annotated[
        list[str], typer.Argument(help="Run or model ids, or unambiguous prefixes of them.")
    ],
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Do not ask (needed without a terminal).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="JSON summary on stdout.")] = False,
) -> None:
    """Remove runs and models with their latent arrays and checkpoints.

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
    output.emit(summary, as_json, "\n".join(lines))


def register(app: typer.Typer) -> None:
    app.command("rm")(rm)
