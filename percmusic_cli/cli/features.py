"""`percmusic features`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from percmusic_cli import api
from percmusic_cli.cli import output
from percmusic_cli.cli.state import options
from percmusic_cli.config import SpectrogramConfig


def features(
    dataset: Annotated[str | None, typer.Option(help="Dataset (default: the only one).")] = None,
    frames: Annotated[
        int | None,
        typer.Option(
            help="Frames per image, 16 to 65536 (default: 1290, or fewer for datasets of "
            "shorter clips)."
        ),
    ] = None,
    n_mels: Annotated[int, typer.Option(help="Mel bands (8 to 1024).")] = 128,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "auto",
    as_json: Annotated[bool, typer.Option("--json", help="JSON summary on stdout.")] = False,
) -> None:
    """Compute the log-mel image of every usable track (cached by parameters and inputs).

    Example:

      percmusic features --device cpu
    """
    cfg = SpectrogramConfig(n_mels=n_mels)
    summary = api.features(
        output.store(),
        dataset,
        cfg,
        n_frames=frames,
        device=device,
        reporter=output.RichReporter(),
        wait_s=options().wait,
    )
    table = Table(title=f"features of {summary.dataset}", show_header=False)
    table.add_row("feature set", summary.feature_hash + (" (reused)" if summary.reused else ""))
    table.add_row("tracks", str(summary.n_tracks))
    table.add_row("image", f"{summary.n_mels} x {summary.n_frames}")
    table.add_row("padded clips", str(summary.padded))
    table.add_row("wall time", f"{summary.wall_s:.1f} s")
    output.emit(summary.to_dict(), as_json, table)


def register(app: typer.Typer) -> None:
    app.command("features")(features)
