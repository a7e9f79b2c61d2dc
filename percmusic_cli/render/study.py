"""The study's table: one row per metric, KNN beside autoencoder latents, controls below."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich import box
from rich.table import Table

from percmusic_cli.render import fmt, safe


def _cell(row: Mapping[str, Any]) -> str:
    f1 = fmt.with_ci(row["test_f1"], row["test_f1_low"], row["test_f1_high"])
    return f"{f1} ({row['param_name']}={fmt.param_value(float(row['param']))})"


def study_table(result: Mapping[str, Any]) -> Table:
    """Test weighted F1 with 95% CIs; the chosen k or C in brackets."""
    table = Table(
        padding=(0, 1, 0, 0),
        title=safe.title(f"{result['dataset']} / {result['split']}: test weighted F1 [95% CI]"),
        caption="KNN: the metric as distance (Experiment 1). AE + LR: logistic regression on "
        "the latents of an autoencoder trained on uniform noise with the metric as loss "
        f"(Experiment 2, preset {result['preset']}). Controls: the same LR on pooled raw "
        "spectrograms, and on an untrained autoencoder of the same shape.",
        box=box.SIMPLE_HEAD,
        title_justify="left",
        caption_justify="left",
    )
    table.add_column("metric", no_wrap=True)
    table.add_column("KNN", no_wrap=True)
    table.add_column("AE + LR", no_wrap=True)
    for row in result["rows"]:
        table.add_row(row["label"], _cell(row["knn"]), _cell(row["latent"]))
    table.add_section()
    names = {"raw": "control: raw", "untrained": "control: untrained"}
    for control in result["controls"]:
        table.add_row(names.get(control["metric"], control["metric"]), "", _cell(control))
    return table
