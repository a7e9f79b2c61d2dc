"""`compare`'s table: one row per pair of runs (no computation here)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich import box
from rich.table import Table

from percmusic_cli.render import safe

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


def _runs_table(result: Mapping[str, Any]) -> Table:
    table = Table(
        padding=(0, 1, 0, 0),
        title=safe.title(f"{result['dataset']}: runs on the same {result['n_tracks']} test tracks"),
        box=box.SIMPLE_HEAD,
        title_justify="left",
    )
    for col in ("#", "run", "test F1", "accuracy"):
        table.add_column(col, overflow="fold")
    scores: dict[str, tuple[float, float]] = {}
    for r in result["pairs"]:
        scores.setdefault(r["a"], (r["f1_a"], r["acc_a"]))
        scores.setdefault(r["b"], (r["f1_b"], r["acc_b"]))
    for i, run in enumerate(result["runs"], start=1):
        f1, acc = scores[run["run_id"]]
        table.add_row(str(i), safe.text(run["run_id"]), f"{f1:.3f}", f"{acc:.3f}")
    return table


def compare_tables(result: Mapping[str, Any]) -> list[Table]:
    """The runs (numbered), then one row per pair: 'i - j' is run i minus run j."""
    many = len(result["pairs"]) > 1
    number = {run["run_id"]: i for i, run in enumerate(result["runs"], start=1)}
    table = Table(
        padding=(0, 1, 0, 0),
        title="pairs: run i minus run j",
        caption=f"dF1: difference in test weighted F1 with a 95% CI and p from a paired "
        f"bootstrap ({result['n_boot']} resamples of the tracks, the same for both runs). "
        "only right: tracks only run i / only run j gets right; McNemar's exact test on them."
        + (" p values Holm-corrected over the pairs." if many else ""),
        box=box.SIMPLE_HEAD,
        title_justify="left",
        caption_justify="left",
    )
    for col in ("i - j", "dF1 [95% CI]", "p", "only right", "McNemar p"):
        table.add_column(col, no_wrap=True)
    table.add_column("verdict", min_width=10)
    for r in result["pairs"]:
        table.add_row(
            f"{number[r['a']]} - {number[r['b']]}",
            f"{r['diff']:+.3f} [{r['low']:+.2f}, {r['high']:+.2f}]",
            f"{r['p_holm' if many else 'p']:.3f}",
            f"{r['a_only_right']} / {r['b_only_right']}",
            f"{r['p_mcnemar_holm' if many else 'p_mcnemar']:.3f}",
            r["verdict"].replace("A better", "i better").replace("B better", "j better"),
        )
    return [_runs_table(result), table]
