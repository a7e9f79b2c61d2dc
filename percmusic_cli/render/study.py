"""The study's table: one row per metric, KNN beside autoencoder latents, controls below."""

from __future__ import annotations

import math
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


def _chance_note(result: Mapping[str, Any]) -> str:
    chance = result.get("chance_f1")
    if chance is None:
        return ""
    return (
        f" Chance: {chance:.3f}, the weighted F1 of a stratified random guess on the same "
        "test tracks (expected confusion); '≤ chance' marks a score at or below it."
    )


def _flag(text: str, score: float | None, chance: float | None) -> Text:
    if chance is None or score is None or score > chance:
        return Text(text)
    return Text.assemble(text, (" ≤ chance", "red"))


def _title(result: Mapping[str, Any], what: str) -> str:
    """'gtzan: 50 tracks, 5 folds x 10 test tracks (1 per class), 3 seeds: ...'; a
    valid-split study names its split (the folds ignore the split's ratios)."""
    where = result["dataset"]
    if result.get("folds", 1) == 1:
        where += f" / {result['split']}"
    if result.get("design"):
        where += f": {result['design']}"
    return f"{where}: {what}"


def _eval_col(result: Mapping[str, Any]) -> str:
    ev = result.get("evaluation")
    return f" ({ev})" if ev else ""


def study_table(result: Mapping[str, Any]) -> Table:
    """Test weighted F1 with 95% CIs; the chosen k or C in brackets."""
    chance = result.get("chance_f1")
    table = _study_frame(
        _title(result, "test weighted F1 [95% CI]"),
        "KNN: the metric as distance (Experiment 1). AE + LR: logistic regression on "
        "the latents of an autoencoder trained on uniform noise with the metric as loss "
        f"(Experiment 2, preset {result['preset']}). Controls: the same LR on pooled raw "
        "spectrograms, and on an untrained autoencoder of the same shape." + _chance_note(result),
    )
    ev = _eval_col(result)
    table.columns[1].header = f"KNN{ev}"
    table.columns[2].header = f"AE + LR{ev}"
    for row in result["rows"]:
        table.add_row(
            safe.text(row["label"]),
            _flag(_cell(row["knn"]), row["knn"]["test_f1"], chance),
            _flag(_cell(row["latent"]), row["latent"]["test_f1"], chance),
        )
    table.add_section()
    names = {"raw": "control: raw", "untrained": "control: untrained"}
    for control in result["controls"]:
        table.add_row(
            safe.text(names.get(control["metric"], control["metric"])),
            "",
            _flag(_cell(control), control["test_f1"], chance),
        )
    return table


def _mean_cell(cell: Mapping[str, Any] | None, chance: float | None = None) -> Text:
    """'0.412 ±0.031s ±0.052f [0.35, 0.47]': sd over seeds (s) and folds (f) where repeated."""
    if cell is None:
        return Text(fmt.MISSING)
    text = fmt.score(cell["mean"])
    if cell.get("sd_seeds") is not None:
        text += f" ±{cell['sd_seeds']:.3f}s"
    if cell.get("sd_folds") is not None:
        text += f" ±{cell['sd_folds']:.3f}f"
    return _flag(f"{text} [{cell['low']:.2f}, {cell['high']:.2f}]", cell["mean"], chance)


def summary_table(result: Mapping[str, Any]) -> Table:
    """The study table over seeds and folds: mean ± sd with two-level bootstrap CIs."""
    summary = result["summary"]
    chance = result.get("chance_f1")
    hubs = result.get("hubness_arms", [])
    table = _study_frame(
        _title(
            result,
            f"test weighted F1, mean over {result['seeds']} seed(s) x {result['folds']} "
            "fold(s) ±sd [95% CI]",
        ),
        "s = sd over seeds, f = sd over folds. CI: bootstrap resampling the test "
        "tracks within each fold and the seeds (README, 'Is the difference real?')."
        + _chance_note(result)
        + (
            f" Rows '(h)': KNN on distances rescaled by hubness reduction {', '.join(hubs)}."
            if hubs
            else ""
        ),
    )
    ev = _eval_col(result)
    table.columns[1].header = f"KNN{ev}"
    table.columns[2].header = f"AE + LR{ev}"
    for row in result["rows"]:
        m = row["metric"]
        table.add_row(
            safe.text(row["label"]),
            _mean_cell(summary.get(f"knn:{m}"), chance),
            _mean_cell(summary.get(f"ae:{m}"), chance),
        )
    table.add_section()
    for name, label in (("raw", "control: raw"), ("untrained", "control: untrained")):
        table.add_row(label, "", _mean_cell(summary.get(name), chance))
    for h in hubs:  # KNN on hubness-reduced distances: one more row per metric
        table.add_section()
        for row in result["rows"]:
            cell = _mean_cell(summary.get(f"knn-{h}:{row['metric']}"), chance)
            table.add_row(safe.text(f"{row['label']} ({h})"), cell, "")
    return table


def _ratio_cell(claim: Mapping[str, Any]) -> str:
    if claim.get("loss_ratio") is None:
        return ""
    text = f"{claim['loss_ratio']:.2f}"
    if claim.get("not_learned"):
        text += f" ({claim['not_learned']}/{claim['n_models']} did not learn)"
    return text


def p_text(p: float | None, at_floor: bool = False, floor: float | None = None) -> str:
    """A p-value; one at the bootstrap's floor 2 / (B + 1) as '< X', never as a value."""
    if p is None or math.isnan(p):
        return fmt.MISSING
    if at_floor and floor:
        return f"< {_up(p):.2g}" if p > floor * (1 + 1e-9) else f"< {_up(floor):.2g}"
    return f"{p:.3f}" if p >= 0.001 else f"{p:.1e}"


def _up(x: float) -> float:
    """x rounded up to two significant digits (a bound stays a bound when printed)."""
    if x <= 0:
        return x
    scale = 10 ** (math.floor(math.log10(x)) - 1)
    return math.ceil(x / scale - 1e-9) * scale


TEST_TEXT = {
    "corrected resampled t-test": "corrected resampled t-test (Nadeau and Bengio 2003) over "
    "the {runs} fold x seed runs",
    "paired bootstrap": "paired bootstrap ({n_boot} resamples of the test tracks shared by "
    "both sides, seeds resampled too)",
}


def claims_table(result: Mapping[str, Any]) -> Table:
    """The study's claims: difference, unadjusted CI, p and Holm p of the test the verdict
    rests on, the verdict with the direction of the estimate; then, under the table, one
    sentence per metric saying where the gain comes from."""
    claims = result["claims"]
    test = claims[0].get("test", "paired bootstrap") if claims else "paired bootstrap"
    n_boot = result.get("n_boot", 1000)
    runs = result.get("seeds", 1) * result.get("folds", 1)
    test_text = TEST_TEXT.get(test, test).format(runs=runs, n_boot=n_boot)
    gain = " ".join(result.get("gain", {}).values())
    table = Table(
        padding=(0, 1, 0, 0),
        title=f"claims (difference in test weighted F1, positive = the claim holds); "
        f"verdicts rest on the {test}",
        caption=Text(
            f"p: {test_text}; Holm p: Holm-corrected over the {len(claims)} rows, "
            "verdict at 0.05. 95% CI: unadjusted paired-bootstrap percentile interval "
            f"({n_boot} resamples). loss/base: final training loss / loss of the best "
            "constant output." + (f"\n{gain}" if gain else "")
        ),
        box=box.SIMPLE_HEAD,
        title_justify="left",
        caption_justify="left",
    )
    # At 80 columns the claim, the verdict and the loss ratio wrap; the numbers do not.
    table.add_column("claim", min_width=16, ratio=1)
    for col in ("diff", "95% CI (unadj.)", "p", "Holm p"):
        table.add_column(col, no_wrap=True)
    table.add_column("verdict", max_width=14)
    table.add_column("loss/base", max_width=14)
    styles = {"supported": "green", "contradicted": "red"}
    floor = result.get("p_floor")
    for c in claims:
        at_floor = bool(c.get("p_at_floor"))
        table.add_row(
            safe.text(c["claim"]),  # it names metrics by their (plugin-given) labels
            f"{c['diff']:+.3f}",
            f"[{c['low']:+.2f}, {c['high']:+.2f}]",
            p_text(c.get("p"), at_floor, floor),
            p_text(c["p_holm"], at_floor, floor),
            Text(c["verdict"], style=styles.get(c["verdict"], "yellow")),
            _ratio_cell(c),
        )
    return table


def hubness_table(result: Mapping[str, Any]) -> Table:
    """Per KNN metric: skewness of the k-occurrence and the top hubs' neighbour slots."""
    return hubness_rows_table(result.get("hubness", {}))


def hubness_rows_table(hubness: Mapping[str, Mapping[str, Any]]) -> Table:
    first = next(iter(hubness.values()), {})
    table = Table(
        padding=(0, 1, 0, 0),
        title=f"hubness of each KNN distance (k-occurrence N_{first.get('k', 5)} over "
        f"{first.get('over', 'all x all')})",
        caption="skew: skewness of N_k (Radovanovic et al. 2010; near 0 = neighbour slots "
        "spread evenly, large = a few hubs fill them). orphans: tracks that are nobody's "
        "neighbour. Hubs: tracks with the most slots, and their share of all slots.",
        box=box.SIMPLE_HEAD,
        title_justify="left",
        caption_justify="left",
    )
    table.add_column("metric", no_wrap=True)
    table.add_column("skew", no_wrap=True)
    table.add_column("orphans", no_wrap=True)
    table.add_column("top hubs (share of slots)", ratio=1)
    for name, h in hubness.items():
        hubs = ", ".join(
            f"{t['track']} {t['count']} ({t['share']:.0%})" for t in h.get("top_hubs", [])
        )
        table.add_row(
            safe.text(h.get("label", name)),
            f"{h['skewness']:.2f}",
            f"{h['orphans']}/{h['tracks']}",
            safe.text(hubs),
        )
    return table


def reproduce_tables(result: Mapping[str, Any]) -> list[Table]:
    """What `reproduce` prints: the study table (summary when repeated), then the claims,
    then the hubness of each KNN distance."""
    repeated = result.get("seeds", 1) > 1 or result.get("folds", 1) > 1
    repeated = repeated or (bool(result.get("hubness_arms")) and "summary" in result)
    first = summary_table(result) if repeated else study_table(result)
    out = [first, claims_table(result)] if "claims" in result else [first]
    if result.get("hubness"):
        out.append(hubness_table(result))
    return out
