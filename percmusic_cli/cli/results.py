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
    "fold",
    "loss_ratio",
    "macro_classes",
    "wall_s",
    "created_at",
)


@app.callback(invoke_without_command=True)
def results(
    ctx: typer.Context,
    kind: Annotated[str | None, typer.Option(help="Classifier: knn, latent, ...")] = None,
    metric: Annotated[
        str | None, typer.Option(help="Metric, model or control name (e.g. nlpd, raw).")
    ] = None,
    dataset: Annotated[str | None, typer.Option(help="Only this dataset.")] = None,
    split: Annotated[
        str | None, typer.Option(help="Only runs on this split (e.g. fault-filtered).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV on stdout.")] = False,
) -> None:
    """All stored runs side by side: metric, k or C, valid F1, test F1 with CI, accuracy.

    Examples:

      percmusic results --kind knn

      percmusic results --split fault-filtered --metric nlpd

      percmusic results --csv > runs.csv

      percmusic results show knn-nlpd --plot
    """
    if ctx.invoked_subcommand is not None:
        return
    from percmusic_cli.render.tables import runs_table

    rows = api.results(output.store(), kind=kind, name=metric, dataset=dataset, split=split)
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
    run: Annotated[
        str, typer.Argument(help="Run id, or a prefix of one (the latest matching run).")
    ],
    plot: Annotated[bool, typer.Option("--plot", help="Draw the F1-vs-k (or C) curve.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
    as_csv: Annotated[
        bool, typer.Option("--csv", help="Per-class scores as CSV (empty cells: n/a).")
    ] = False,
) -> None:
    """One run: scores with CIs, per-class scores, confusion matrix, provenance.

    Examples:

      percmusic results show knn-mse --plot

      percmusic results show knn-nlpd --csv > per-class.csv
    """
    from percmusic_cli.render.confusion import confusion_table
    from percmusic_cli.render.plots import curve_plot
    from percmusic_cli.render.tables import evaluation_table, per_class_table

    detail = api.run_detail(output.store(), run)
    others = detail.pop("other_matches", [])
    if others:
        output.warn(
            f"{run!r} matches {len(others) + 1} runs; showing the latest, {detail['run_id']}; "
            f"others: {', '.join(others)}"
        )
    result = api.classifier_result(detail)
    if as_csv:
        _per_class_csv(detail["result"]["evaluation"])
        return
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


def _per_class_csv(evaluation: dict[str, Any]) -> None:
    """One row per class; a class without test items has empty scores (n/a, not 0)."""
    c_all = evaluation["per_class"]
    writer = csv.writer(sys.stdout)
    writer.writerow(["label", "precision", "recall", "f1", "support"])
    for c in evaluation["per_class"]:
        na = not c["support"]
        scores = ["" if na or c[k] is None else c[k] for k in ("precision", "recall", "f1")]
        writer.writerow([c["label"], *scores, c["support"]])
    present = evaluation.get("macro_classes")
    label = "macro F1" if present is None else f"macro F1 ({present} of {len(c_all)} classes)"
    writer.writerow([label, "", "", evaluation["f1_macro"], evaluation["n"]])


def register(main: typer.Typer) -> None:
    main.add_typer(app, name="results")
