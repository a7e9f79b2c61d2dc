"""The study's table: one row per metric, KNN beside autoencoder latents, controls below."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich import box
from rich.table import Table
from rich.text import Text

from percmusic_cli.render import fmt, safe


def _cell(row: Mapping[str, Any]) -> str:
    f1 = fmt.with_ci(row["test_f1"], row["test_f1_low"], row["test_f1_high"])
    return f"{f1} ({row['param_name']}={fmt.param_value(float(row['param']))})"


def _study_frame(title: str, caption: str) -> Table:
    """The study table's frame and columns; the title (it names the dataset) is escaped."""
    table = Table(
        padding=(0, 1, 0, 0),
        title=safe.title(title),
        caption=caption,
        box=box.SIMPLE_HEAD,
        title_justify="left",
        caption_justify="left",
    )
    table.add_column("metric", no_wrap=True)
    table.add_column("KNN", no_wrap=True)
    table.add_column("AE + LR", no_wrap=True)
    return table


def study_table(result: Mapping[str, Any]) -> Table:
    """Test weighted F1 with 95% CIs; the chosen k or C in brackets."""
    table = _study_frame(
        f"{result['dataset']} / {result['split']}: test weighted F1 [95% CI]",
        "KNN: the metric as distance (Experiment 1). AE + LR: logistic regression on "
        "the latents of an autoencoder trained on uniform noise with the metric as loss "
        f"(Experiment 2, preset {result['preset']}). Controls: the same LR on pooled raw "
        "spectrograms, and on an untrained autoencoder of the same shape.",
    )
    for row in result["rows"]:
        table.add_row(safe.text(row["label"]), _cell(row["knn"]), _cell(row["latent"]))
    table.add_section()
    names = {"raw": "control: raw", "untrained": "control: untrained"}
    for control in result["controls"]:
        table.add_row(
            safe.text(names.get(control["metric"], control["metric"])), "", _cell(control)
        )
    return table


def _mean_cell(cell: Mapping[str, Any] | None) -> str:
    """'0.412 ±0.031s ±0.052f [0.35, 0.47]': sd over seeds (s) and folds (f) where repeated."""
    if cell is None:
        return fmt.MISSING
    text = fmt.score(cell["mean"])
    if cell.get("sd_seeds") is not None:
        text += f" ±{cell['sd_seeds']:.3f}s"
    if cell.get("sd_folds") is not None:
        text += f" ±{cell['sd_folds']:.3f}f"
    return f"{text} [{cell['low']:.2f}, {cell['high']:.2f}]"


def summary_table(result: Mapping[str, Any]) -> Table:
    """The study table over seeds and folds: mean ± sd with two-level bootstrap CIs."""
    summary = result["summary"]
    table = _study_frame(
        f"{result['dataset']} / {result['split']}: test weighted F1, mean over "
        f"{result['seeds']} seed(s) x {result['folds']} fold(s) ±sd [95% CI]",
        "s = sd over seeds, f = sd over folds. CI: bootstrap resampling the test "
        "tracks within each fold and the seeds (README, 'Is the difference real?').",
    )
    for row in result["rows"]:
        m = row["metric"]
        table.add_row(
            safe.text(row["label"]),
            _mean_cell(summary.get(f"knn:{m}")),
            _mean_cell(summary.get(f"ae:{m}")),
        )
    table.add_section()
    for name, label in (("raw", "control: raw"), ("untrained", "control: untrained")):
        table.add_row(label, "", _mean_cell(summary.get(name)))
    return table


def _ratio_cell(claim: Mapping[str, Any]) -> str:
    if claim.get("loss_ratio") is None:
        return ""
    text = f"{claim['loss_ratio']:.2f}"
    if claim.get("not_learned"):
        text += f" ({claim['not_learned']}/{claim['n_models']} did not learn)"
    return text


def claims_table(result: Mapping[str, Any]) -> Table:
    """The study's claims: difference in test weighted F1, CI, Holm p, verdict."""
    table = Table(
        padding=(0, 1, 0, 0),
        title="claims (difference in test weighted F1, positive = the claim holds)",
        caption=f"95% CI and p: paired bootstrap ({result.get('n_boot', 1000)} resamples of "
        "the test tracks shared by both sides, seeds resampled too); Holm-corrected over "
        "the rows. loss/base: final training loss / loss of the best constant output.",
        box=box.SIMPLE_HEAD,
        title_justify="left",
        caption_justify="left",
    )
    # At 80 columns the claim, the verdict and the loss ratio wrap; the numbers do not.
    table.add_column("claim", min_width=16, ratio=1)
    for col in ("diff", "95% CI", "Holm p"):
        table.add_column(col, no_wrap=True)
    table.add_column("verdict", max_width=13)
    table.add_column("loss/base", max_width=14)
    styles = {"supported": "green", "contradicted": "red"}
    for c in result["claims"]:
        table.add_row(
            safe.text(c["claim"]),  # it names metrics by their (plugin-given) labels
            f"{c['diff']:+.3f}",
            f"[{c['low']:+.2f}, {c['high']:+.2f}]",
            f"{c['p_holm']:.3f}",
            Text(c["verdict"], style=styles.get(c["verdict"], "yellow")),
            _ratio_cell(c),
        )
    return table


def reproduce_tables(result: Mapping[str, Any]) -> list[Table]:
    """What `reproduce` prints: the study table (summary when repeated), then the claims."""
    repeated = result.get("seeds", 1) > 1 or result.get("folds", 1) > 1
    first = summary_table(result) if repeated else study_table(result)
    return [first, claims_table(result)] if "claims" in result else [first]
