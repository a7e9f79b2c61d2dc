"""Render layer: the numbers and labels reach the text, tables fit, shading is monotone,
charts mark the chosen value and order the distributions."""

from __future__ import annotations

import re

import numpy as np
import pytest
from rich.color import Color
from rich.console import Console
from rich.table import Table
from rich.text import Text

from percmusic_cli.datasets.gtzan import GENRES
from percmusic_cli.experiments.report import (
    ClassifierResult,
    ClassScore,
    Evaluation,
    Interval,
    SelectionCurve,
)
from percmusic_cli.experiments.stats import distance_summary, evaluate
from percmusic_cli.render import (
    confusion_table,
    curve_plot,
    distance_summary_table,
    evaluation_table,
    per_class_table,
    runs_table,
    shade,
    violin_plot,
)
from percmusic_cli.render.fmt import abbreviate

GTZAN = list(GENRES)


def _text(renderable: object, width: int = 100) -> str:
    console = Console(width=width, record=True, color_system=None)
    console.print(renderable)
    return console.export_text()


def _evaluation() -> Evaluation:
    return Evaluation(
        labels=["blues", "jazz"],
        n=40,
        accuracy=0.675,
        f1_weighted=0.4123,
        f1_macro=0.3987,
        accuracy_ci=Interval(0.52, 0.81),
        f1_weighted_ci=Interval(0.351, 0.4712),
        per_class=[
            ClassScore("blues", 0.625, 0.5, 0.5556, 20),
            ClassScore("jazz", 0.25, 0.8, 0.381, 20),
        ],
        confusion=[[10, 10], [4, 16]],
    )


def _result(method: str = "valid") -> ClassifierResult:
    curve = SelectionCurve("k", [1.0, 2.0, 3.0], [0.2, 0.3, 0.25], 7.0, method)
    return ClassifierResult(_evaluation(), curve, [], 0.3012, ["no validation split: note"])


def test_evaluation_table_shows_scores_cis_and_choice() -> None:
    out = _text(evaluation_table(_result(), "KNN on NLPD"))
    assert "KNN on NLPD" in out
    assert "0.412 [0.35, 0.47]" in out
    assert "0.675 [0.52, 0.81]" in out
    assert "0.399" in out
    assert "7 (valid)" in out
    assert "0.301" in out
    assert "no validation split: note" in out
    assert "cv-5 weighted F1" in _text(evaluation_table(_result("cv-5"), "t"))


def test_per_class_table_lists_classes_in_order() -> None:
    out = _text(per_class_table(_evaluation()))
    assert out.index("blues") < out.index("jazz")
    blues_line = next(line for line in out.splitlines() if "blues" in line)
    assert blues_line.split()[1:] == ["0.625", "0.500", "0.556", "20"]
    assert "0.412" in out and "0.399" in out


def _cells(table: Table, col: int) -> list[Text]:
    cells = list(table.columns[col].cells)
    assert all(isinstance(c, Text) for c in cells)
    return [c for c in cells if isinstance(c, Text)]


def _brightness(text: Text) -> float:
    style = text.style
    assert not isinstance(style, str)
    if style.bgcolor is None:
        return 0.0
    triplet = style.bgcolor.get_truecolor()
    return float(sum(triplet))


def test_confusion_table_fits_80_columns_for_ten_genres() -> None:
    rng = np.random.default_rng(0)
    t = rng.choice(GTZAN, 290)
    p = np.where(rng.random(290) < 0.4, t, rng.choice(GTZAN, 290))
    ev = evaluate(t.tolist(), p.tolist(), labels=GTZAN, n_boot=10)
    out = _text(confusion_table(ev), width=80)
    lines = out.splitlines()
    assert max(len(line.rstrip()) for line in lines) <= 80
    assert "…" not in out
    assert "true \\" in out and "predicted" in out
    header = next(line for line in lines if "predicted" in line)
    assert header.split()[1:] == abbreviate(GTZAN, 5)
    for label, row in zip(GTZAN, ev.confusion, strict=True):
        line = next(line for line in lines if line.startswith(label + " "))
        assert [int(v) for v in line.split()[1:]] == row  # rows = true labels


def test_confusion_shading_is_monotone_in_row_share() -> None:
    ev = evaluate(
        ["a"] * 6 + ["b"] * 4,
        ["a", "a", "a", "b", "b", "c", "c", "c", "c", "b"],
        labels=["a", "b", "c"],
        n_boot=5,
    )
    table = confusion_table(ev)
    shares, light = [], []
    for j in range(3):
        for i, cell in enumerate(_cells(table, j + 1)):
            row = ev.confusion[i]
            shares.append(row[j] / sum(row) if sum(row) else 0.0)  # class c is never true
            light.append(_brightness(cell))
    order = np.argsort(shares, kind="stable")
    ranked = np.array(light)[order]
    assert np.all(np.diff(ranked) >= 0)
    assert ranked[0] < ranked[-1]
    grid = [shade(f) for f in np.linspace(0, 1, 21)]
    channels = np.array(
        [
            (0, 0, 0) if s.bgcolor is None else s.bgcolor.get_truecolor()
            for s in grid
            if not isinstance(s, str)
        ]
    )
    assert np.all(np.diff(channels[1:, 2]) >= 0)  # blue never decreases
    assert np.all(np.diff(channels[1:].sum(axis=1)) >= 0)
    assert grid[-1].bgcolor == Color.parse("rgb(30,110,235)")


def test_abbreviations_stay_distinct() -> None:
    assert abbreviate(["country", "countryrock", "pop"], 5) == ["count", "coun2", "pop"]
    assert abbreviate(GTZAN, 4) == [
        "blue", "clas", "coun", "disc", "hiph", "jazz", "meta", "pop", "regg", "rock"
    ]  # fmt: skip


def test_runs_table_formats_each_key() -> None:
    rows = [
        {
            "run_id": "r1a2b3",
            "kind": "knn",
            "metric": "nlpd",
            "param": 7,
            "method": "valid",
            "valid_f1": 0.31,
            "test_f1": 0.4123,
            "test_f1_low": 0.351,
            "test_f1_high": 0.4712,
            "accuracy": 0.42,
            "created_at": "2025-01-02T03:04:05",
        },
        {"run_id": "r9", "kind": "latent", "metric": "ae-msssim", "param": 0.01, "test_f1": 0.5},
    ]
    out = _text(runs_table(rows), width=110)
    r1 = next(line for line in out.splitlines() if "r1a2b3" in line)
    # no kind column: run ids start with their kind (knn-..., latent-...)
    assert "nlpd" in r1 and "k=7 (valid)" in r1
    assert "0.310" in r1 and "0.412 [0.35, 0.47]" in r1 and "0.420" in r1
    assert "2025-01-02 03:04" in r1
    r9 = next(line for line in out.splitlines() if "r9 " in line)
    assert "C=0.01" in r9 and "0.500" in r9 and "—" in r9
    assert "…" not in _text(runs_table(rows, width=80), width=80)  # as the CLI asks for it


def test_curve_plot_marks_the_chosen_k_without_colour() -> None:
    curve = SelectionCurve("k", [float(k) for k in range(1, 21)], [0.1] * 6 + [0.4] + [0.2] * 13,
                           7.0, "valid")  # fmt: skip
    out = curve_plot(curve, width=60, height=15)
    assert "\x1b" not in out
    assert "chosen k=7" in out
    assert out.count("●") == 1
    assert max(len(line) for line in out.splitlines()) <= 60
    assert len(out.splitlines()) <= 15
    # the marker sits on the highest plotted row: the 0.4 tick's line
    marker_line = next(line for line in out.splitlines() if "●" in line)
    assert marker_line.lstrip().startswith("0.4")


def test_curve_plot_uses_log_axis_for_c() -> None:
    curve = SelectionCurve("C", [0.001, 0.01, 0.1, 1.0, 10.0, 100.0],
                           [0.2, 0.25, 0.3, 0.35, 0.33, 0.31], 1.0, "cv-5")  # fmt: skip
    out = curve_plot(curve, width=70, height=14)
    ticks = out.splitlines()[-2]
    assert re.findall(r"[\d.]+", ticks) == ["0.001", "0.01", "0.1", "1", "10", "100"]
    assert "cv-5" in out and "chosen C=1" in out


def _median_col(block: list[str]) -> int:
    line = next(line for line in block if "┃" in line)
    return line.index("┃")


def test_violin_plot_layout_and_order() -> None:
    rng = np.random.default_rng(1)
    groups = {
        "near": rng.normal(0.2, 0.03, 300),
        "far": rng.normal(0.7, 0.05, 300),
        "all": rng.uniform(0.1, 0.8, 500),
    }
    out = violin_plot(groups, width=70, height=20, title="NLPD")
    lines = out.splitlines()
    assert lines[0] == "NLPD"
    assert len(lines) == 1 + 3 * 3 + 1  # title, 3 lines per group, axis
    assert max(len(line) for line in lines) <= 70
    near, far = lines[1:4], lines[4:7]
    assert near[0].startswith("near") and far[0].startswith("far")
    assert _median_col(near) < _median_col(far)
    # the densest column of "near" (a full block) lies left of the densest of "far"
    assert near[0].index("█") < far[0].index("█")
    assert "0.1" in lines[-1]
    compact = violin_plot(groups, width=70, height=6, title="")
    assert len(compact.splitlines()) == 2 * 3 + 1


def test_distance_summary_table_shows_quantiles() -> None:
    stats = distance_summary({"classical": np.array([0.1, 0.2, 0.3, 0.4]), "all": np.arange(10.0)})
    out = _text(distance_summary_table(stats), width=80)
    classical = next(line for line in out.splitlines() if "classical" in line)
    assert classical.split()[1] == "4"
    assert "0.25" in classical  # the median
    all_line = next(line for line in out.splitlines() if line.strip().startswith("all"))
    assert "4.5" in all_line
    assert "…" not in out


@pytest.mark.parametrize("width", [80, 120])
def test_evaluation_table_fits(width: int) -> None:
    out = _text(evaluation_table(_result(), "x"), width=width)
    assert max(len(line.rstrip()) for line in out.splitlines()) <= width


def test_density_violins_from_stored_rows_match_shape() -> None:
    from percmusic_cli.render.plots import density_violins

    grid = np.linspace(0.0, 1.0, 64)
    narrow = np.exp(-0.5 * ((grid - 0.2) / 0.02) ** 2)
    wide = np.exp(-0.5 * ((grid - 0.7) / 0.2) ** 2)
    quant = {"q05": 0.1, "q25": 0.15, "median": 0.2, "q75": 0.25, "q95": 0.3}
    rows = [
        {
            "group": "narrow",
            "n": 10,
            "density": {"lo": 0.0, "hi": 1.0, "values": narrow.tolist()},
            **quant,
        },
        {
            "group": "wide",
            "n": 10,
            "density": {"lo": 0.0, "hi": 1.0, "values": wide.tolist()},
            **quant,
        },
    ]
    text = density_violins(rows, width=60, height=20, title="t")
    lines = text.splitlines()
    assert lines[0] == "t"
    narrow_top, wide_top = lines[1], lines[4]
    full = "█"
    # the narrow group peaks left of the middle, the wide one right of it
    assert narrow_top.index(full) < 30 < wide_top.index(full)
    glyphs = [len(line[7:].strip()) for line in (narrow_top, wide_top)]
    assert glyphs[0] < glyphs[1]
    assert "┃" in lines[2]


def test_per_class_table_shows_na_and_counts_the_macro_classes() -> None:
    ev = evaluate(["a", "a", "b"], ["a", "b", "b"], labels=["a", "b", "c"], n_boot=5)
    text = _text(per_class_table(ev))
    (c_row,) = [line for line in text.splitlines() if line.strip().startswith("c ")]
    assert c_row.split()[1:] == ["n/a", "n/a", "n/a", "0"]
    assert "macro F1 (2 of 3 classes)" in text
    # a and b score 2/3 each: the mean over the two, not (2/3 + 2/3 + 0) / 3
    assert f"{ev.f1_macro:.3f}" in text and ev.f1_macro == pytest.approx(2 / 3)


def test_claims_verdicts_are_styled_not_literal_markup() -> None:
    """The CLI's consoles read no markup in plain strings (hostile names): a verdict is a
    styled Text, so it prints as a word, whole, in any console."""
    from percmusic_cli.render.study import claims_table

    claim = {"claim": "NLPD is the worst KNN distance", "diff": 0.18, "low": 0.1, "high": 0.28}
    rows = [{**claim, "p_holm": 0.02, "verdict": v} for v in ("supported", "contradicted")]
    console = Console(width=200, record=True, color_system=None, markup=False)
    console.print(claims_table({"claims": rows}))
    out = console.export_text()
    assert "supported" in out and "contradicted" in out
    assert "[green]" not in out and "[/]" not in out


def test_runs_of_a_repeated_study_show_fold_and_seed_columns() -> None:
    from percmusic_cli.render.tables import runs_table

    base = {"metric": "mse", "param_name": "k", "param": 3.0, "valid_f1": 0.5, "test_f1": 0.4}
    rows = [
        {
            **base,
            "run_id": f"knn-{f}{s}",
            "split": f"random/fold{f}of5-s0",
            "seed": s,
            "selection": "cv",
        }
        for f in (1, 2)
        for s in (0, 1)
    ]
    console = Console(width=100, record=True, color_system=None, markup=False)
    console.print(runs_table(rows, title="runs", width=100))
    out = console.export_text()
    header = next(line for line in out.splitlines() if "run" in line and "seed" in line)
    assert "fold" in header and " cv " in f"{header} " and "valid" not in header
    assert "(split random)" in out and "2/5" in out and "fold2of5" not in out


def test_claims_table_names_its_test_and_prints_a_floor_p_as_a_bound() -> None:
    from percmusic_cli.render.study import claims_table, p_text

    floor = 2 / 4001
    claim = {"claim": "MSE: AE+LR beats KNN (paper)", "diff": 0.3, "low": 0.2, "high": 0.4}
    rows = [
        {
            **claim,
            "p": floor,
            "p_holm": 8 * floor,
            "p_at_floor": True,
            "verdict": "supported",
            "test": "paired bootstrap",
        },
        {
            **claim,
            "diff": -0.02,
            "p": 0.4,
            "p_holm": 1.0,
            "p_at_floor": False,
            "verdict": "leans against (not resolved)",
            "test": "paired bootstrap",
        },
    ]
    result = {"claims": rows, "n_boot": 4000, "p_floor": floor, "gain": {"mse": "MSE: the gain."}}
    console = Console(width=200, record=True, color_system=None, markup=False)
    console.print(claims_table(result))
    out = console.export_text()
    assert "verdicts rest on the paired" in " ".join(out.split()) and "95% CI (unadj.)" in out
    assert "< 0.0005 " in out and "< 0.004 " in out  # the floor and its Holm multiple
    assert "leans against" in out and "MSE: the gain." in out
    assert p_text(0.0123) == "0.012" and p_text(float("nan")) == "—"
