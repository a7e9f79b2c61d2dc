"""`percmusic filter`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from percmusic_cli import api
from percmusic_cli.cli import output
from percmusic_cli.cli.state import options

if TYPE_CHECKING:
    from percmusic_cli.api import SplitSummary


def filter_split(
    split: Annotated[
        str,
        typer.Option(
            help=f"One of {', '.join(api.split_methods())}; auto = the split the dataset "
            "declares (manifest, FMA), else fault-filtered for GTZAN, when every label has at "
            f"least {api.split_min_per_part()} tracks in each part, else random (says why); "
            "manifest = the split column of an ingested manifest (FMA: set.split)."
        ),
    ] = "auto",
    dataset: Annotated[str | None, typer.Option(help="Dataset (default: the only one).")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the random split (0 to 2**32 - 1).")] = 0,
    ratios: Annotated[
        str,
        typer.Option(
            help="train,valid,test fractions of the random split, summing to 1 "
            "(train and test above 0; valid may be 0)."
        ),
    ] = "0.5,0.2,0.3",
    file: Annotated[
        Path | None,
        typer.Option(
            help="For --split file: lines '<track> <part>', or a folder of train/valid/test "
            "*.txt lists."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON summary on stdout.")] = False,
) -> None:
    """Choose train / valid / test (and excluded) tracks; the last split made is active.

    Examples:

      percmusic filter                       # fault-filtered for GTZAN (443/197/290)

      percmusic filter --split random --seed 1 --ratios 0.6,0.2,0.2

      percmusic filter --split manifest      # the manifest's (or FMA's) own split
    """
    summary = api.split(
        output.store(), dataset, split, seed=seed, ratios=ratios, file=file, wait_s=options().wait
    )
    output.emit(summary.to_dict(), as_json, _table(summary))
    for line in summary.notes:
        output.note(f"note: {line}")


def _table(s: SplitSummary) -> Table:
    parts = [p for p in ("train", "valid", "test", "excluded") if p in s.counts]
    labels = sorted({label for c in s.counts.values() for label in c})
    table = Table(title=f"split {s.name} of {s.dataset}")
    table.add_column("label")
    for part in parts:
        table.add_column(part, justify="right")
    for label in labels:
        table.add_row(label, *(str(s.counts[p].get(label, 0)) for p in parts))
    table.add_row(
        Text("total", style="bold"),
        *(Text(str(sum(s.counts[p].values())), style="bold") for p in parts),
    )
    return table


def register(app: typer.Typer) -> None:
    app.command("filter")(filter_split)
