"""`compare`'s table: one row per pair of runs (no computation here)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich import box
from rich.table import Table

CSV_KEYS = (
    "a",
    "b",
    "f1_a",
    "f1_b",
    "diff",
    "low",
    "high",
    "p",
    "p_holm",
    "acc_a",
    "acc_b",
    "a_only_right",
    "b_only_right",
    "p_mcnemar",
    "p_mcnemar_holm",
    "verdict",
)


def compare_table(result: Mapping[str, Any]) -> Table:
    many = len(result["pairs"]) > 1
    table = Table(
        padding=(0, 1, 0, 0),
        title=f"{result['dataset']}: paired comparison on the same {result['n_tracks']} test "
        "tracks",
        caption=f"F1 = test weighted F1, A - B with a 95% CI and p from a paired bootstrap "
        f"({result['n_boot']} resamples of the tracks, shared by both runs). Accuracy: "
        "McNemar's exact test on the tracks only one run gets right (A-only / B-only)."
        + (" p values Holm-corrected over the pairs." if many else ""),
        box=box.SIMPLE_HEAD,
        title_justify="left",
        caption_justify="left",
    )
    for col in (
        "A",
        "B",
        "F1 A - B [95% CI]",
        "p",
        "acc A / B",
        "A-only / B-only",
        "McNemar p",
        "verdict",
    ):
        table.add_column(col, no_wrap=col not in ("A", "B"))
    for r in result["pairs"]:
        table.add_row(
            r["a"],
            r["b"],
            f"{r['f1_a']:.3f} - {r['f1_b']:.3f} = {r['diff']:+.3f} "
            f"[{r['low']:+.2f}, {r['high']:+.2f}]",
            f"{r['p_holm' if many else 'p']:.3f}",
            f"{r['acc_a']:.3f} / {r['acc_b']:.3f}",
            f"{r['a_only_right']} / {r['b_only_right']}",
            f"{r['p_mcnemar_holm' if many else 'p_mcnemar']:.3f}",
            r["verdict"],
        )
    return table
