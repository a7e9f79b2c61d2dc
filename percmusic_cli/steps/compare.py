"""`compare`: paired differences between stored runs scored on the same test tracks."""

from __future__ import annotations

from itertools import combinations
from typing import Any

import numpy as np

from percmusic_cli.errors import DataError, UsageError
from percmusic_cli.experiments.paired import (
    Difference,
    holm,
    mcnemar_exact,
    paired_bootstrap,
    verdict,
)
from percmusic_cli.experiments.stats import encode, weighted_f1_codes
from percmusic_cli.steps.predictions import load_run
from percmusic_cli.store import Store


def _same_test_set(a: dict[str, Any], b: dict[str, Any]) -> None:
    """Refuse runs on different test sets, naming the difference in one line."""
    ra, rb = a["run_id"], b["run_id"]
    if a["dataset"] != b["dataset"]:
        raise DataError(
            f"runs {ra} and {rb} are on different datasets ({a['dataset']} vs {b['dataset']}): "
            "a paired comparison needs the same test tracks"
        )
    ta = {p["track_id"] for p in a["predictions"]}
    tb = {p["track_id"] for p in b["predictions"]}
    if ta != tb:
        split = "" if a["split"] == b["split"] else f" (splits {a['split']} vs {b['split']})"
        raise DataError(
            f"runs {ra} and {rb} have different test tracks{split}: {len(ta - tb)} only in "
            f"{ra}, {len(tb - ta)} only in {rb}; a paired comparison needs the same tracks"
        )


def compare_runs(
    store: Store, run_ids: list[str], n_boot: int = 1000, seed: int = 0
) -> dict[str, Any]:
    if len(run_ids) < 2:
        raise UsageError("compare needs at least two run ids (see `percmusic results`)")
    runs = [load_run(store, r) for r in run_ids]
    ids = [r["run_id"] for r in runs]
    if len(set(ids)) < len(ids):
        raise UsageError(f"the same run is given twice: {', '.join(ids)}")
    for other in runs[1:]:
        _same_test_set(runs[0], other)
    truth = [p["true_label"] for p in runs[0]["predictions"]]
    classes = sorted({*truth, *(p["pred_label"] for r in runs for p in r["predictions"])})
    t = encode(truth, classes)
    preds = {
        r["run_id"]: encode([p["pred_label"] for p in r["predictions"]], classes) for r in runs
    }
    c = len(classes)
    pairs = []
    for a, b in combinations(ids, 2):
        d = paired_bootstrap(t, preds[a], preds[b], c, n_boot=n_boot, seed=seed)
        n01, n10, p_mc = mcnemar_exact(preds[a] == t, preds[b] == t)
        pairs.append(
            {
                "a": a,
                "b": b,
                "f1_a": float(weighted_f1_codes(t, preds[a], c)),
                "f1_b": float(weighted_f1_codes(t, preds[b], c)),
                "diff": d.diff,
                "low": d.low,
                "high": d.high,
                "p": d.p,
                "acc_a": float(np.mean(preds[a] == t)),
                "acc_b": float(np.mean(preds[b] == t)),
                "a_only_right": n01,
                "b_only_right": n10,
                "p_mcnemar": p_mc,
            }
        )
    for key in ("p", "p_mcnemar"):
        for row, adj in zip(pairs, holm([r[key] for r in pairs]), strict=True):
            row[f"{key}_holm"] = adj
    for row in pairs:
        row["verdict"] = verdict_text(row)
    return {
        "dataset": runs[0]["dataset"],
        "n_tracks": len(t),
        "n_boot": n_boot,
        "seed": seed,
        "method": "paired bootstrap (shared resamples), percentile 95% CI, two-sided "
        "bootstrap p; McNemar exact on per-track correctness; Holm over pairs",
        "runs": [
            {"run_id": r["run_id"], "kind": r["kind"], "name": r["name"], "split": r["split"]}
            for r in runs
        ],
        "pairs": pairs,
    }


def verdict_text(row: dict[str, Any]) -> str:
    """'A better', 'B better' or 'not resolved at this size' from the Holm-corrected F1 p."""
    d = Difference(row["diff"], row["low"], row["high"], row["p"])
    v = verdict(d, row["p_holm"])
    return {"supported": "A better", "contradicted": "B better"}.get(v, v)
