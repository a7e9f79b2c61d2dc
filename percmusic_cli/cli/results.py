"""`percmusic results` and `percmusic results show RUN`."""

from __future__ import annotations

import csv
import sys
from typing import Annotated, Any

import typer

from percmusic_cli import api
from percmusic_cli.cli import output

app = typer.Typer(rich_markup_mode=None)

CSV_KEYS = (
    "run_id",
    "kind",
    "metric",
    "dataset",
    "split",
    "param_name",
    "param",
    "selection",
    "valid_f1",
    "test_f1",
    "test_f1_low",
    "test_f1_high",
    "accuracy",
    "f1_macro",
    "seed",
    "loss_ratio",
    "wall_s",
    "created_at",
)


@app.callback(invoke_without_command=True)
def results(
    ctx: typer.Context,
    kind: Annotated[str | None, typer.Option(help="knn or latent.")] = None,
    metric: Annotated[str | None, typer.Option(help="Metric, loss or control name.")] = None,
    dataset: Annotated[str | None, typer.Option(help="Only this dataset.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV on stdout.")] = False,
) -> None:
    """All stored runs side by side: metric, k or C, valid F1, test F1 with CI, accuracy.

    Examples:

      percmusic results --kind knn

      percmusic results --csv > runs.csv

      percmusic results show knn-nlpd --plot
    """
    if ctx.invoked_subcommand is not None:
        return
    from percmusic_cli.render.tables import runs_table

    rows = api.results(output.store(), kind=kind, name=metric, dataset=dataset)
    if as_csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=CSV_KEYS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
        return
    if not rows and not as_json:
        output.note("no runs stored yet: run `percmusic knn` or `percmusic classify`")
    output.emit(rows, as_json, runs_table(rows, title="runs", width=output.out.width))


@app.command("show")
def show(
    run: Annotated[str, typer.Argument(help="Run id (or a unique prefix of one).")],
    plot: Annotated[bool, typer.Option("--plot", help="Draw the F1-vs-k (or C) curve.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
) -> None:
    """One run: scores with CIs, per-class scores, confusion matrix, provenance.

    Example:

      percmusic results show knn-mse --plot
    """
    from percmusic_cli.render.confusion import confusion_table
    from percmusic_cli.render.plots import curve_plot
    from percmusic_cli.render.tables import evaluation_table, per_class_table

    detail = api.run_detail(output.store(), run)
    result = api.classifier_result(detail)
    items: list[Any] = [
        evaluation_table(
            result,
            title=f"{detail['run_id']} ({detail['kind']} "
            f"{detail['name']}, {detail['dataset']} / {detail['split']})",
        ),
        per_class_table(result.evaluation),
        confusion_table(result.evaluation, width=output.out.width),
    ]
    if plot:
        items.append(curve_plot(result.curve, width=min(output.out.width, 100), height=20))
    items.append(
        f"provenance: git {detail['git_rev']}, device {detail['device']}, "
        f"wall {detail['wall_s']:.1f} s, created {detail['created_at']}"
    )
    output.emit(detail, as_json, *items)


def register(main: typer.Typer) -> None:
    main.add_typer(app, name="results")
