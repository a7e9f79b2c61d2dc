"""Rich tables for classifier results, stored runs and distance summaries."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from rich import box
from rich.table import Table
from rich.text import Text

from percmusic_cli.experiments.report import ClassifierResult, Evaluation
from percmusic_cli.render import fmt, safe


def _selection_label(method: str) -> str:
    return "valid weighted F1" if method == "valid" else f"{method} weighted F1 (train)"


def evaluation_table(result: ClassifierResult, title: str) -> Table:
    """Summary of one run: test scores with 95% CIs, chosen k or C, selection score."""
    ev, curve = result.evaluation, result.curve
    level = round(ev.f1_weighted_ci.level * 100)
    table = Table(
        title=safe.title(title), box=box.SIMPLE_HEAD, show_header=False, title_justify="left"
    )
    table.add_column("what", style="bold")
    table.add_column("value", justify="right")
    wci, aci = ev.f1_weighted_ci, ev.accuracy_ci
    table.add_row(f"test weighted F1 ({level}% CI)", fmt.with_ci(ev.f1_weighted, wci.low, wci.high))
    table.add_row(f"test {_macro_label(ev)}", fmt.score(ev.f1_macro))
    table.add_row(f"test accuracy ({level}% CI)", fmt.with_ci(ev.accuracy, aci.low, aci.high))
    table.add_row(f"chosen {curve.param}", f"{fmt.param_value(curve.chosen)} ({curve.method})")
    table.add_row(_selection_label(curve.method), fmt.score(result.valid_f1))
    table.add_row("test items", str(ev.n))
    if result.notes:
        table.caption = "\n".join(result.notes)
        table.caption_justify = "left"
    return table


def per_class_table(evaluation: Evaluation, title: str | None = None) -> Table:
    """Precision, recall, F1 and support per class, in the evaluation's class order."""
    table = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left")
    table.add_column("class")
    for name in ("precision", "recall", "F1", "support"):
        table.add_column(name, justify="right")
    for c in evaluation.per_class:
        # No test items: there is no score to show, which is not a score of 0.
        cells = (c.precision, c.recall, c.f1) if c.support else (None, None, None)
        table.add_row(safe.text(c.label), *(fmt.score(x, na=NA) for x in cells), str(c.support))
    table.add_section()
    table.add_row(
        _macro_label(evaluation), "", "", fmt.score(evaluation.f1_macro), str(evaluation.n)
    )
    table.add_row("weighted F1", "", "", fmt.score(evaluation.f1_weighted), str(evaluation.n))
    return table


NA = "n/a"


def _macro_label(evaluation: Evaluation) -> str:
    """'macro F1 (3 of 10 classes)' when it averages over the classes with test items."""
    present = evaluation.macro_classes
    if present is None:
        return "macro F1"
    return f"macro F1 ({present} of {len(evaluation.labels)} classes)"


# Keys runs_table reads; all but run_id may be missing or None (shown as a dash).
RUN_KEYS = (
    "run_id",  # str: the stored run's id
    "kind",  # "knn" | "latent" (or any short word)
    "metric",  # metric or loss: "mse" | "msssim" | "nlpd" | a model/control name
    "split",  # optional: the run's split; a column when rows differ, else in the title
    "param",  # chosen k or C as a number, or a preformatted string ("k=7", "ae-nlpd C=0.1")
    "param_name",  # optional: "k" or "C" for a numeric param (default: k for knn, else C)
    "method",  # optional: selection method, "valid" or "cv-5"
    "valid_f1",  # float: selection score (valid weighted F1, or mean CV weighted F1)
    "test_f1",  # float: test weighted F1
    "test_f1_low",  # float: lower end of its bootstrap CI
    "test_f1_high",  # float: upper end
    "accuracy",  # float: test accuracy
    "created_at",  # datetime or ISO string
    "loss_ratio",  # optional float: the encoder's final training loss / trivial baseline
)


def _param_cell(row: Mapping[str, Any]) -> str:
    p = row.get("param")
    if p is None:
        text = fmt.MISSING
    elif isinstance(p, str):
        text = p
    else:
        name = row.get("param_name") or ("k" if row.get("kind") == "knn" else "C")
        text = f"{name}={fmt.param_value(float(p))}"
    method = row.get("method")
    return f"{text} ({method})" if method else text


_FOLD = re.compile(r"/fold(\d+)of(\d+)-s(-?\d+)$")


def _fold_of(split: str) -> tuple[str, str]:
    """('random', '2/5') for a fold run's split 'random/fold2of5-s0'; (split, '') else."""
    m = _FOLD.search(split)
    return (split, "") if m is None else (split[: m.start()], f"{m.group(1)}/{m.group(2)}")


def runs_table(
    rows: Sequence[Mapping[str, Any]], title: str | None = None, width: int = 120
) -> Table:
    """One line per stored run, side by side (keys: see RUN_KEYS); the date column only
    when `width` leaves room for it."""
    # The run id is the only cell that may fold: names and numbers stay on one line, so
    # a 10-class study's runs read at 80 columns.
    table = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left", padding=(0, 1, 0, 0))
    table.add_column("run", overflow="fold")  # starts with the kind: knn- or latent-
    table.add_column("metric/loss", no_wrap=True)
    # Runs of several splits get a split column; runs of one split name it in the title,
    # which keeps the table within 80 columns.
    # A repeated study's runs: the split's base name, then fold and seed columns.
    designs = {r.get("run_id"): _fold_of(str(r.get("split") or "")) for r in rows}
    splits = sorted({d[0] for d in designs.values() if d[0]})
    show_split = len(splits) > 1
    if show_split:
        table.add_column("split", overflow="fold")
    elif splits:
        table.title = f"{title or 'runs'} (split {splits[0]})"
    show_fold = any(d[1] for d in designs.values())
    if show_fold:
        table.add_column("fold", no_wrap=True)
    show_seed = len({r.get("seed") for r in rows}) > 1 or show_fold
    if show_seed:
        table.add_column("seed", justify="right", no_wrap=True)
    table.add_column("k / C", no_wrap=True)
    # The selection score: on the split's valid part, or by cross-validation on train.
    methods = {r.get("selection") for r in rows if r.get("valid_f1") is not None}
    table.add_column("cv" if methods == {"cv"} else "valid", justify="right", no_wrap=True)
    table.add_column("test F1 [95% CI]", justify="right", no_wrap=True)
    table.add_column("acc", justify="right", no_wrap=True)
    show_ratio = any(r.get("loss_ratio") is not None for r in rows)
    if show_ratio:  # "did not learn" wraps under its ratio at 80 columns
        table.add_column("loss/base", max_width=13)
    show_date = width >= 110
    if show_date:
        table.add_column("date", no_wrap=True)
    for r in rows:
        cells: list[Text | str] = [
            safe.text(r["run_id"]),
            safe.text(r.get("metric") or fmt.MISSING),
            *([designs[r.get("run_id")][0] or fmt.MISSING] if show_split else []),
            *([designs[r.get("run_id")][1] or ""] if show_fold else []),
            *([str(r.get("seed", "")) if r.get("seed") is not None else ""] if show_seed else []),
            _param_cell(r),
            fmt.score(r.get("valid_f1")),
            fmt.with_ci(r.get("test_f1"), r.get("test_f1_low"), r.get("test_f1_high")),
            fmt.score(r.get("accuracy")),
        ]
        if show_ratio:
            cells.append(
                fmt.learned(r.get("loss_ratio")) if r.get("loss_ratio") is not None else ""
            )
        table.add_row(*cells, *([fmt.when(r.get("created_at"))] if show_date else []))
    return table


SUMMARY_COLUMNS = ("n", "mean", "std", "q05", "q25", "median", "q75", "q95")


def distance_summary_table(stats: Sequence[Mapping[str, Any]], title: str | None = None) -> Table:
    """Quantiles of pairwise distances per group, as `experiments.stats.distance_summary`
    returns them (keys: group, n, mean, std, q05, q25, median, q75, q95)."""
    table = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left", padding=(0, 1, 0, 0))
    table.add_column("group", no_wrap=True)
    for name in SUMMARY_COLUMNS:
        table.add_column(name, justify="right", no_wrap=True)
    for row in stats:
        table.add_row(safe.text(row["group"]), *(fmt.quantity(row.get(k)) for k in SUMMARY_COLUMNS))
    return table
