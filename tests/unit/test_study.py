"""The repeated study's bookkeeping (steps/study.py) with the per-(fold, seed) reproduce
replaced by a fake that records runs' predictions: folds, seeds, arms, claims, summary."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from percmusic_cli.steps import study as st
from percmusic_cli.steps.views import SplitView
from percmusic_cli.store import Store
from percmusic_cli.store.studies import latest_study

CLASSES = ["a", "b", "c"]


def _view() -> SplitView:
    ids = [f"t{i:02d}" for i in range(15)]
    labels = [CLASSES[i % 3] for i in range(15)]
    rows = np.arange(15)
    view = SplitView("ds", "random", "fh", ids, labels)
    view.rows = {"train": rows[:9], "valid": rows[9:9], "test": rows[9:], "all": rows}
    return view


def test_seeds_and_folds_feed_every_arm_and_claim(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    preds: dict[str, tuple[list[str], list[str], list[str]]] = {}
    calls: list[tuple[str, int]] = []
    rng = np.random.default_rng(0)

    def fake_reproduce(
        store: Any,
        view: SplitView,
        preset: str,
        device: str,
        reporter: Any,
        seed: int,
        metrics: list[str],
    ) -> dict[str, Any]:
        calls.append((view.split, seed))
        ids, true = view.ids("test"), view.part_labels("test")

        def run(name: str, q: float) -> dict[str, Any]:
            rid = f"{name}-{view.split}-{seed}"
            guess = [t if rng.random() < q else CLASSES[(CLASSES.index(t) + 1) % 3] for t in true]
            preds[rid] = (ids, true, guess)
            return {"run_id": rid, "metric": name}

        rows = [
            {
                "metric": m,
                "label": m,
                "knn": run(f"knn{m}", 0.3),
                "latent": run(f"ae{m}", 1.0),
                "model_id": f"m-{m}-{seed}",
            }
            for m in metrics
        ]
        return {
            "dataset": "ds",
            "split": view.split,
            "preset": preset,
            "rows": rows,
            "controls": [
                run("raw", 0.3) | {"metric": "raw"},
                run("untrained", 0.3) | {"metric": "untrained"},
            ],
        }

    monkeypatch.setattr(st, "reproduce", fake_reproduce)
    monkeypatch.setattr(st, "compute_distances", lambda *a, **k: [])
    monkeypatch.setattr(st, "_matrices", lambda *a, **k: {})
    monkeypatch.setattr(st, "run_predictions", lambda store, rid: preds[rid])
    monkeypatch.setattr(
        st, "find_model", lambda store, mid: {"final_loss": 0.08, "baseline_loss": 1 / 12}
    )
    (tmp_path / "store").mkdir()
    store = Store(tmp_path / "store")
    out = st.study(store, _view(), "quick", "cpu", seed=5, seeds=2, folds=5, resamples=500)
    assert sorted({s for _, s in calls}) == [5, 6] and len({v for v, _ in calls}) == 5
    assert out["test_tracks_per_fold"] == [3] * 5
    n = out["n"]
    assert (n["tracks"], n["folds"], n["seeds"], n["evaluation"]) == (15, 5, 2, "cv-5")
    assert n["test_tracks_per_class"] == {c: [1] * 5 for c in CLASSES}
    assert out["design"] == "15 tracks, 5 folds x 3 test tracks (1 per class), 2 seeds"
    assert out["chance_f1"] == pytest.approx(1 / 3)
    assert out["n_boot"] == 500 and out["p_floor"] == pytest.approx(2 / 501)
    cell = out["summary"]["ae:mse"]
    assert cell["mean"] == 1.0 and cell["sd_seeds"] == 0.0 and cell["low"] == 1.0
    assert len(out["summary"]["knn:mse"]["per_run"]) == 5
    claims = {c["claim"]: c for c in out["claims"]}
    assert len(claims) == 12  # four per metric
    paper = claims["MSE: AE+LR beats KNN (paper)"]
    assert paper["diff"] > 0.4 and paper["test"] == "corrected resampled t-test"
    training = claims["MSE: trained beats untrained encoder (training's share)"]
    assert training["loss_ratio"] == pytest.approx(0.96)
    assert training["not_learned"] == 2
    # the paper's difference splits exactly into the classifier's and the representation's
    cls = claims["MSE: raw pooled + LR beats KNN (classifier's share)"]
    rep = claims["MSE: trained AE beats raw pooled (representation's share)"]
    assert paper["diff"] == pytest.approx(cls["diff"] + rep["diff"])
    assert "representation" in out["gain"]["mse"]
    # the hint suggests no repetition that ran: only more tracks help
    assert out["hints"] and "under 10 per class" in out["hints"][0]
    assert "--folds" not in out["hints"][0] and "--seeds" not in out["hints"][0]
    with store.connect(read_only=True) as con:
        assert latest_study(con)["claims"] == out["claims"]


def test_a_model_prefix_of_several_seeds_lists_them(tmp_path: Path) -> None:
    """`classify --model ae-nlpd` after `reproduce --seeds 2`: the documented rule is that a
    prefix names one model; several are listed with their seeds, none picked silently."""
    from percmusic_cli.config import ModelConfig, TrainConfig
    from percmusic_cli.errors import UsageError
    from percmusic_cli.steps.train import find_model
    from percmusic_cli.store import models as sm

    (tmp_path / "store").mkdir()
    store = Store(tmp_path / "store")
    with store.connect() as con:
        for seed in (0, 1):
            cfg = TrainConfig(loss="nlpd", seed=seed)
            sm.upsert_model(
                con,
                f"ae-nlpd-noise-{seed}abc",
                cfg,
                ModelConfig(),
                "x",
                1,
                "done",
                "cpu",
                1.0,
                None,
            )
    with pytest.raises(UsageError) as err:
        find_model(store, "ae-nlpd")
    text = str(err.value)
    assert "matches 2 models" in text and "\n" not in text
    assert "ae-nlpd-noise-0abc (seed 0)" in text and "ae-nlpd-noise-1abc (seed 1)" in text
    assert find_model(store, "ae-nlpd-noise-1")["model_id"] == "ae-nlpd-noise-1abc"
