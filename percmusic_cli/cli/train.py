"""`percmusic train`."""

from __future__ import annotations

import dataclasses
from typing import Annotated

import typer
from rich.table import Table

from percmusic_cli import api
from percmusic_cli.cli import output
from percmusic_cli.cli.state import options
from percmusic_cli.config import PRESETS, ModelConfig, TrainConfig
from percmusic_cli.config import preset as preset_configs
from percmusic_cli.render import fmt


def train(
    loss: Annotated[
        str,
        typer.Option(
            help=f"A registered metric: {', '.join(api.metric_names())} (see `percmusic "
            "metrics`); several, comma-separated, train one model each (each its own task "
            "with --scheduler dask)."
        ),
    ] = "nlpd",
    data: Annotated[
        str,
        typer.Option(
            help="noise (i.i.d. uniform noise, the study's setting) or spectrograms (random "
            "patches of the training split)."
        ),
    ] = "noise",
    preset: Annotated[
        str,
        typer.Option(help=f"Starting values: {', '.join(PRESETS)} (options below override them)."),
    ] = "default",
    steps: Annotated[int | None, typer.Option(help="Optimiser steps.")] = None,
    batch: Annotated[int | None, typer.Option(help="Patches per step.")] = None,
    patch: Annotated[int | None, typer.Option(help="Square patch side.")] = None,
    lr: Annotated[float | None, typer.Option(help="Adam learning rate (finite, above 0).")] = None,
    seed: Annotated[
        int | None, typer.Option(help="Seed of weights and data (0 to 2**32 - 1).")
    ] = None,
    hidden: Annotated[int | None, typer.Option(help="Hidden channels.")] = None,
    latent: Annotated[int | None, typer.Option(help="Latent channels.")] = None,
    nonlinearity: Annotated[str | None, typer.Option(help="gdn, relu or gelu.")] = None,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "auto",
    dataset: Annotated[str | None, typer.Option(help="For --data spectrograms.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
) -> None:
    """Train an autoencoder with a perceptual loss (resumes a killed run, reuses a done one).

    Examples:

      percmusic train --loss nlpd

      percmusic train --loss msssim --preset quick

      percmusic train --loss mse --data spectrograms --steps 3000 --device cuda

      percmusic --scheduler dask train --loss mse,msssim,nlpd --preset quick
    """
    # A comma list trains one model per loss; each name is checked by the config.
    losses = [x.strip() for x in loss.split(",") if x.strip()] or [loss]
    cfg, model_cfg = preset_configs(
        preset,
        loss=losses[0],
        data=data,
        steps=steps,
        batch_size=batch,
        patch=patch,
        lr=lr,
        seed=seed,
        device=device,
        hidden_channels=hidden,
        latent_channels=latent,
        nonlinearity=nonlinearity,
    )
    if len(losses) > 1:
        _train_several(
            [dataclasses.replace(cfg, loss=x) for x in losses], model_cfg, dataset, as_json
        )
        return
    row = api.train(
        output.store(),
        cfg,
        model_cfg,
        dataset=dataset,
        reporter=output.RichReporter(),
        wait_s=options().wait,
    )
    table = Table(title=f"model {row['model_id']}", show_header=False)
    table.add_row("loss / data", f"{row['loss']} / {row['data']}")
    table.add_row("steps", f"{row['steps_done']} / {row['steps_total']}")
    table.add_row("status", row["status"] + (" (reused)" if row.get("reused") else ""))
    if row.get("final_loss") is not None:
        table.add_row("final loss", f"{row['final_loss']:.5f}")
    if row.get("baseline_loss") is not None:
        table.add_row("trivial baseline", f"{row['baseline_loss']:.5f}")
        table.add_row("final / baseline", fmt.learned(row.get("loss_ratio"), row.get("learned")))
    table.add_row("device", str(row["device"]))
    table.add_row("checkpoints", str(row["checkpoint_dir"]))
    output.emit(row, as_json, table)
    output.note(f"next: percmusic classify --model {row['model_id']}")


def _train_several(
    cfgs: list[TrainConfig], model_cfg: ModelConfig, dataset: str | None, as_json: bool
) -> None:
    rows = api.train_many(
        output.store(),
        cfgs,
        model_cfg,
        dataset=dataset,
        reporter=output.RichReporter(),
        wait_s=options().wait,
    )
    table = Table("model", "loss", "steps", "status", "final loss", "device", title="models")
    for row in rows:
        final = row.get("final_loss")
        table.add_row(
            row["model_id"],
            row["loss"],
            f"{row['steps_done']} / {row['steps_total']}",
            row["status"] + (" (reused)" if row.get("reused") else ""),
            "-" if final is None else f"{final:.5f}",
            str(row["device"]),
        )
    output.emit(rows, as_json, table)


def register(app: typer.Typer) -> None:
    app.command("train")(train)
