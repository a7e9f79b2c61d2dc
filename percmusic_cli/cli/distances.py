"""`percmusic distances` and `percmusic distances stats`."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from percmusic_cli import api
from percmusic_cli.cli import output
from percmusic_cli.cli.state import options
from percmusic_cli.config import DistanceConfig

app = typer.Typer(no_args_is_help=False, rich_markup_mode=None)

METRIC_HELP = (
    f"A registered metric ({', '.join(api.metric_names())}; see `percmusic metrics`), "
    "a comma list of them, or all (the study's MSE, 1 - MS-SSIM and NLPD)."
)
Metric = Annotated[str, typer.Option(help=METRIC_HELP)]
Dataset = Annotated[str | None, typer.Option(help="Dataset (default: the only one).")]
Device = Annotated[str, typer.Option(help="auto, cpu or cuda.")]
Tile = Annotated[int, typer.Option(help="Tile side: memory is bounded by it.")]
Threads = Annotated[int | None, typer.Option(help="CPU threads (default: all; at most 8 per CPU).")]
Json = Annotated[bool, typer.Option("--json", help="JSON on stdout.")]


@app.callback(invoke_without_command=True)
def distances(
    ctx: typer.Context,
    metric: Metric = "all",
    pairs: Annotated[
        str, typer.Option(help="split: train x train, valid x train, test x train; all: all x all.")
    ] = "split",
    dataset: Dataset = None,
    device: Device = "auto",
    tile: Tile = 64,
    threads: Threads = None,
    as_json: Json = False,
) -> None:
    """Pairwise distance matrices per metric, tiled and resumable, reused when unchanged.

    Examples:

      percmusic distances --metric nlpd

      percmusic distances --metric all --pairs all --device cuda

      percmusic distances --metric ssim,mse

      percmusic distances stats --metric nlpd --plot
    """
    if ctx.invoked_subcommand is not None:
        return
    cfg = DistanceConfig(tile=tile, device=device, threads=threads)
    log = api.distances(
        output.store(),
        dataset,
        metric,
        pairs,
        cfg,
        reporter=output.RichReporter(),
        wait_s=options().wait,
    )
    output.emit(log, as_json, _table(log))


def _table(log: list[dict[str, Any]]) -> Table:
    table = Table(title="distance blocks")
    for col in ("metric", "block", "size", "reused", "wall s", "pairs/s"):
        table.add_column(col, justify="right" if col in ("wall s", "pairs/s") else "left")
    for e in log:
        table.add_row(
            e["metric"],
            e["block"],
            f"{e['n_rows']} x {e['n_cols']}",
            "yes" if e["reused"] else "no",
            f"{e['wall_s']:.2f}",
            "" if e["pairs_per_s"] is None else f"{e['pairs_per_s']:.0f}",
        )
    return table


@app.command("stats")
def stats(
    metric: Metric = "all",
    dataset: Dataset = None,
    device: Device = "auto",
    tile: Tile = 64,
    threads: Threads = None,
    plot: Annotated[bool, typer.Option("--plot", help="Draw violins in the terminal.")] = False,
    as_json: Json = False,
) -> None:
    """Distances within each genre and over all songs, per metric (the study's Fig. 1).

    Example:

      percmusic distances stats --metric all --plot
    """
    from percmusic_cli.render.plots import density_violins
    from percmusic_cli.render.study import hubness_rows_table
    from percmusic_cli.render.tables import distance_summary_table

    cfg = DistanceConfig(tile=tile, device=device, threads=threads)
    rows = api.distance_stats(
        output.store(), dataset, metric, cfg, reporter=output.RichReporter(), wait_s=options().wait
    )
    renderables: list[Any] = []
    groups = [r for r in rows if r["group"] != "hubness"]
    for name in dict.fromkeys(r["metric"] for r in groups):
        mine = [r for r in groups if r["metric"] == name]
        renderables.append(distance_summary_table(mine, title=f"{name} distances"))
        if plot:
            renderables.append(density_violins(mine, width=output.out.width, title=name))
    hubs = {r["metric"]: r["hubness"] for r in rows if "hubness" in r}
    if hubs:
        renderables.append(hubness_rows_table(hubs))
    output.emit(rows, as_json, *renderables)


def register(main: typer.Typer) -> None:
    main.add_typer(app, name="distances")
