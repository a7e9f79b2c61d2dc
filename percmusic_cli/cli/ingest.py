"""`percmusic ingest`."""

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
    from percmusic_cli.api import IngestSummary


def ingest(
    path: Annotated[
        Path | None,
        typer.Argument(
            help="A GTZAN copy (genres.tar.gz, genres/, Data/genres_original/), an FMA "
            "folder (fma_metadata/tracks.csv beside fma_small/ ...) or any "
            "<label>/<audio file> folder."
        ),
    ] = None,
    manifest: Annotated[
        Path | None,
        typer.Option(
            help="A .csv (or .jsonl) of path,label[,split][,track_id] rows; paths relative "
            "to the manifest's folder (absolute ones allowed). Example: --manifest "
            "~/data/mine/tracks.csv"
        ),
    ] = None,
    label_column: Annotated[
        str,
        typer.Option(help="The manifest's label column. Example: --label-column genre"),
    ] = "label",
    subset: Annotated[
        str | None,
        typer.Option(
            help="FMA subset: small, medium, large or full (default: the fma_<subset> "
            "folder present). Example: --subset medium"
        ),
    ] = None,
    dataset: Annotated[
        str | None,
        typer.Option(
            help="Dataset name (default: gtzan for GTZAN layouts, fma_<subset> for FMA, the "
            "manifest's file name without extension, else the folder name)."
        ),
    ] = None,
    synthetic: Annotated[
        bool,
        typer.Option("--synthetic", help="Generate and ingest the embedded 10-class demo dataset."),
    ] = False,
    clips_per_class: Annotated[
        int, typer.Option(help="Synthetic clips per class (2 to 1000).")
    ] = 20,
    force: Annotated[
        bool, typer.Option("--force", help="Re-examine files already ingested.")
    ] = False,
    archive_max_mb: Annotated[
        int | None,
        typer.Option(help="Stop extracting an archive past this many MB (default 4096).", min=1),
    ] = None,
    archive_max_ratio: Annotated[
        float | None,
        typer.Option(
            help="Stop extracting an archive expanding past this many times its compressed "
            "size (default 50; judged past 64 MB).",
            min=1.0,
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON summary on stdout.")] = False,
) -> None:
    """Check, describe and record every audio file of a dataset.

    Bad files are recorded with a one-line reason and do not stop the batch; a rerun
    only does the files not yet recorded. Exit 2 when nothing usable was found; 1 for a
    manifest without a path or label column. A bad manifest row (missing file, empty
    label, bad split, duplicate id) is skipped with its row number. A manifest's split
    column (FMA: set.split) is kept for `percmusic filter --split manifest`.

    Examples:

      percmusic ingest ~/data/gtzan/genres.tar.gz

      percmusic ingest --manifest ~/data/mine/tracks.csv

      percmusic ingest ~/data/fma --subset small

      percmusic ingest --synthetic

      percmusic ingest big.tar.gz --archive-max-mb 20000 --archive-max-ratio 5
    """
    summary = api.ingest(
        output.store(create=True),
        path,
        dataset=dataset,
        synthetic=synthetic,
        force=force,
        reporter=output.RichReporter(),
        wait_s=options().wait,
        clips_per_class=clips_per_class,
        archive_max_mb=archive_max_mb,
        archive_max_ratio=archive_max_ratio,
        manifest=manifest,
        label_column=label_column,
        subset=subset,
    )
    output.emit(summary.to_dict(), as_json, _table(summary))
    if summary.relabelled or summary.stale:
        output.note(
            f"{summary.relabelled} stored labels updated; {len(summary.stale)} tracks from "
            "an earlier ingest are no longer listed and were marked unusable"
        )
    if summary.failed or summary.problems:
        output.note(
            f"{summary.failed} files failed and {len(summary.problems)} other problems "
            "were recorded: `percmusic status --errors` lists them"
        )


def _table(s: IngestSummary) -> Table:
    table = Table(title=f"ingest {s.dataset} ({s.kind})", show_header=False)
    table.add_row("root", s.root)
    table.add_row("files found", str(s.found))
    table.add_row("examined now / already done", f"{s.new} / {s.skipped}")
    table.add_row("usable tracks", str(s.ok))
    table.add_row("failed", str(s.failed))
    if s.md5:
        table.add_row("md5 vs GTZAN index", ", ".join(f"{k} {v}" for k, v in s.md5.items()))
    for failure in s.failures[:20]:
        table.add_row(Text("error", style="red"), f"{failure['path']}: {failure['reason']}")
    for problem in s.problems[:20]:
        table.add_row(Text("problem", style="yellow"), f"{problem['path']}: {problem['reason']}")
    table.add_row("wall time", f"{s.wall_s:.1f} s")
    return table


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest)
