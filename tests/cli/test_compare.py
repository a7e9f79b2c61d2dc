"""`percmusic compare`: paired differences between stored runs, and refusals."""

from __future__ import annotations

import csv
import io

import pytest
from clitools import Cli


def _knn(study: Cli, *args: str) -> str:
    (row,) = study.json("knn", "--metric", "mse", "--n-boot", "50", *args)
    return str(row["run_id"])


def test_two_runs_paired_f1_mcnemar_and_agreement_with_stored_predictions(study: Cli) -> None:
    mse = study.json("results", "--metric", "mse")[0]["run_id"]
    nlpd = study.json("results", "--metric", "nlpd")[0]["run_id"]
    out = study.json("compare", mse, nlpd, "--n-boot", "300")
    (pair,) = out["pairs"]
    assert (pair["a"], pair["b"]) == (mse, nlpd)
    assert pair["low"] <= pair["diff"] <= pair["high"]
    assert 0.0 < pair["p"] <= 1.0
    a = {p["track_id"]: p for p in study.json("results", "show", mse)["predictions"]}
    b = {p["track_id"]: p for p in study.json("results", "show", nlpd)["predictions"]}
    right_a = {t for t, p in a.items() if p["true_label"] == p["pred_label"]}
    right_b = {t for t, p in b.items() if p["true_label"] == p["pred_label"]}
    assert pair["a_only_right"] == len(right_a - right_b)
    assert pair["b_only_right"] == len(right_b - right_a)
    assert out["n_tracks"] == len(a)
    table = study("compare", mse, nlpd, "--n-boot", "300").stdout
    assert "McNemar" in table and mse in table and "1 - 2" in table


def test_identical_predictions_and_holm_over_three_runs(study: Cli) -> None:
    mse = study.json("results", "--metric", "mse")[0]["run_id"]
    nlpd = study.json("results", "--metric", "nlpd")[0]["run_id"]
    twin = _knn(study, "--seed", "3", "--k-max", "50")  # other bootstrap seed: same predictions
    shown = study.json("results", "show", twin)["predictions"]
    first = study.json("results", "show", mse)["predictions"]
    assert [p["pred_label"] for p in shown] == [p["pred_label"] for p in first]
    out = study.json("compare", mse, twin, nlpd, "--n-boot", "300")
    pairs = {(p["a"], p["b"]): p for p in out["pairs"]}
    same = pairs[(mse, twin)]
    assert same["diff"] == 0.0 and same["low"] <= 0.0 <= same["high"]
    assert same["p"] == 1.0 and same["p_mcnemar"] == 1.0 and same["p_holm"] == 1.0
    assert same["verdict"] == "not resolved at this size"
    assert len(pairs) == 3
    for p in pairs.values():
        assert p["p_holm"] >= p["p"]
    rows = list(csv.DictReader(io.StringIO(study("compare", mse, twin, nlpd, "--csv").stdout)))
    assert len(rows) == 3 and "p_holm" in rows[0]


def test_runs_on_other_test_tracks_are_refused_in_one_line(study: Cli) -> None:
    mse = study.json("results", "--metric", "mse")[0]["run_id"]
    assert study("filter", "--split", "random", "--seed", "4").exit_code == 0
    other = _knn(study)
    result = study("compare", mse, other)
    assert result.exit_code == 2
    message = result.stderr.strip()
    assert "different test tracks" in message and "\n" not in message
    assert mse in message and other in message


@pytest.mark.parametrize("args", [("only-one",), ("knn-mse", "knn-mse")])
def test_usage_errors(study: Cli, args: tuple[str, ...]) -> None:
    mse = study.json("results", "--metric", "mse")[0]["run_id"]
    real = tuple(mse if a == "knn-mse" else a for a in args)
    result = study("compare", *real)
    assert result.exit_code in (1, 2)
    assert result.stderr.strip().count("\n") == 0
