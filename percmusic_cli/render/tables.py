"""Rich tables for classifier results, stored runs and distance summaries."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich import box
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from percmusic_cli.classifiers import registry
from percmusic_cli.experiments.folds import fold_of
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


def _title(title: str | None) -> Text | None:
    """A caller's title may hold a dataset or metric name: never read as markup."""
    return None if title is None else safe.title(title)


def per_class_table(evaluation: Evaluation, title: str | None = None) -> Table:
    """Precision, recall, F1 and support per class, in the evaluation's class order."""
    table = Table(title=_title(title), box=box.SIMPLE_HEAD, title_justify="left")
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
    "kind",  # a classifier's name, the run kind: "knn" | "latent" | ... (or any short word)
    "metric",  # metric or loss: "mse" | "msssim" | "nlpd" | a model/control name
    "split",  # optional: the run's split; a column when rows differ, else in the title
    "param",  # chosen k or C as a number, or a preformatted string ("k=7", "ae-nlpd C=0.1")
    "param_name",  # optional: "k" or "C" for a numeric param (default: the kind's, registry)
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
        name = row.get("param_name") or registry.param_name(str(row.get("kind")))
        text = f"{name}={fmt.param_value(float(p))}"
    method = row.get("method")
    return f"{text} ({method})" if method else text


# Columns a narrow terminal drops, in this order, so run ids stay whole on one line: the
# date, the metric (part of every run id: kind-metric-hash), the selection score, the
# accuracy, then k / C (a latent run's id of 47 characters needs all of that at 80).
_DROPPABLE = ("date", "metric/loss", "valid", "cv", "acc", "k / C")


def _run_columns(
    rows: Sequence[Mapping[str, Any]], show_split: bool, show_date: bool
) -> dict[str, list[str]]:
    """Header -> the plain text of its cells (what the widths are measured on)."""
    columns: dict[str, list[str]] = {
        "run": [safe.shown(r["run_id"]) for r in rows],
        "metric/loss": [safe.shown(r.get("metric") or fmt.MISSING) for r in rows],
    }
    # A repeated study's runs: the split's base name, then fold and seed columns.
    designs = [fold_of(str(r.get("split") or "")) for r in rows]
    if show_split:
        columns["split"] = [safe.shown(d[0] or fmt.MISSING) for d in designs]
    if any(d[1] for d in designs):
        columns["fold"] = [d[1] for d in designs]
    if len({r.get("seed") for r in rows}) > 1 or "fold" in columns:
        columns["seed"] = ["" if r.get("seed") is None else str(r.get("seed")) for r in rows]
    columns["k / C"] = [_param_cell(r) for r in rows]
    # The selection score: on the split's valid part, or by cross-validation on train.
    methods = {r.get("selection") for r in rows if r.get("valid_f1") is not None}
    columns["cv" if methods == {"cv"} else "valid"] = [fmt.score(r.get("valid_f1")) for r in rows]
    columns["test F1 [95% CI]"] = [
        fmt.with_ci(r.get("test_f1"), r.get("test_f1_low"), r.get("test_f1_high")) for r in rows
    ]
    columns["acc"] = [fmt.score(r.get("accuracy")) for r in rows]
    if any(r.get("loss_ratio") is not None for r in rows):
        columns["loss/base"] = [
            fmt.learned(r.get("loss_ratio")) if r.get("loss_ratio") is not None else ""
            for r in rows
        ]
    if show_date:
        columns["date"] = [fmt.when(r.get("created_at")) for r in rows]
    return columns


def _build(title: Any, columns: dict[str, list[str]], ratio_width: int) -> Table:
    table = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left", padding=(0, 1, 0, 0))
    right = {"valid", "cv", "seed", "test F1 [95% CI]", "acc"}
    for name in columns:
        if name == "split":
            table.add_column(name, overflow="fold")
        elif name == "loss/base":  # "did not learn" wraps under its ratio
            header = name if ratio_width >= len(name) else "loss/\nbase"
            table.add_column(header, max_width=ratio_width)
        else:
            table.add_column(name, justify="right" if name in right else "left", no_wrap=True)
    for i in range(len(next(iter(columns.values()), []))):
        table.add_row(*(Text(columns[name][i]) for name in columns))
    return table


def _needs(table: Table) -> int:
    """The columns `table` needs with no cell cut (Rich's own measure)."""
    console = Console(width=10_000)
    return Measurement.get(console, console.options, table).maximum


def runs_table(
    rows: Sequence[Mapping[str, Any]], title: str | None = None, width: int = 120
) -> Table:
    """One line per stored run, side by side (keys: see RUN_KEYS); the date column only
    when `width` leaves room for it. A run id is never folded: at 80 columns the metric
    (part of the id) and other columns make room for it (see _DROPPABLE)."""
    # Runs of several splits get a split column; runs of one split name it in the title.
    splits = sorted({fold_of(str(r["split"]))[0] for r in rows if r.get("split")})
    show_split = len(splits) > 1
    heading = _title(title)
    if not show_split and splits:
        heading = safe.title(f"{title or 'runs'} (split {splits[0]})")
    columns = _run_columns(rows, show_split, show_date=width >= 110)
    for dropped in (None, *_DROPPABLE):
        columns.pop(dropped or "", None)
        for ratio_width in (13, 10, 6):
            table = _build(heading, columns, ratio_width)
            if _needs(table) <= width:
                return table
    return table


SUMMARY_COLUMNS = ("n", "mean", "std", "q05", "q25", "median", "q75", "q95")


def distance_summary_table(stats: Sequence[Mapping[str, Any]], title: str | None = None) -> Table:
    """Quantiles of pairwise distances per group, as `experiments.stats.distance_summary`
    returns them (keys: group, n, mean, std, q05, q25, median, q75, q95). Pooled rows carry
    the separation (ratio of means, AUC): the caption says it, as `--json` does."""
    table = Table(
        title=_title(title), box=box.SIMPLE_HEAD, title_justify="left", padding=(0, 1, 0, 0)
    )
    pooled = next((r for r in stats if r.get("pooled") and r.get("ratio") is not None), None)
    if pooled is not None:
        table.caption = (
            f"pooled pairs: ratio of means (between / within) {fmt.quantity(pooled['ratio'])}, "
            f"AUC {fmt.score(pooled.get('auc'))}"
        )
        table.caption_justify = "left"
    table.add_column("group", no_wrap=True)
    for name in SUMMARY_COLUMNS:
        table.add_column(name, justify="right", no_wrap=True)
    for row in stats:
        table.add_row(safe.text(row["group"]), *(fmt.quantity(row.get(k)) for k in SUMMARY_COLUMNS))
    return table
