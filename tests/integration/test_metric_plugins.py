"""Third-party metrics through the `percmusic.metrics` entry points: the tiny distribution in
tests/plugins/percmusic_l1 is installed into this interpreter's entry points (a dist-info on
sys.path, as pip would write it) and used by every command, with no change to percmusic."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from clitools import Cli
from trees import TinyTree

from percmusic_cli import api
from percmusic_cli.config import DistanceConfig
from percmusic_cli.metrics import registry
from percmusic_cli.metrics.pairwise import MemoryTileSink, PairwiseEngine, compute_matrix
from percmusic_cli.steps.distances import DistanceBlocks
from percmusic_cli.steps.views import split_view
from percmusic_cli.store import Store

PLUGIN = Path(__file__).resolve().parents[1] / "plugins" / "percmusic_l1"


def install(site: Path, entry_points: dict[str, str]) -> None:
    """What `pip install tests/plugins/percmusic_l1` leaves in site-packages."""
    shutil.copy(PLUGIN / "percmusic_l1.py", site / "percmusic_l1.py")
    info = site / "percmusic_l1-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: percmusic-l1\nVersion: 0.1.0\n")
    lines = "".join(f"{name} = {target}\n" for name, target in entry_points.items())
    (info / "entry_points.txt").write_text(f"[percmusic.metrics]\n{lines}")


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "site"
    path.mkdir()
    monkeypatch.syspath_prepend(str(path))
    registry.reset()
    yield path
    sys.modules.pop("percmusic_l1", None)
    registry.reset()


def _l1_loop(images: np.ndarray) -> np.ndarray:
    x = images.astype(np.float64)
    n = len(x)
    return np.array([[np.abs(x[i] - x[j]).mean() for j in range(n)] for i in range(n)])


def test_generic_path_matrix_equals_a_plain_loop(site: Path) -> None:
    install(site, {"l1": "percmusic_l1:spec"})
    spec = registry.get("l1")
    assert spec.origin == "package percmusic-l1" and spec.fast_pairwise is None
    images = np.random.default_rng(3).random((11, 9, 13)).astype(np.float32)
    engine = PairwiseEngine(DistanceConfig(metric="l1"), device="cpu")
    got = compute_matrix(engine, images, None, 4, MemoryTileSink())
    np.testing.assert_allclose(got, _l1_loop(images), rtol=0, atol=1e-12)
    rect = compute_matrix(engine, images[:5], images[5:], 3, MemoryTileSink())
    np.testing.assert_allclose(rect, _l1_loop(images)[:5, 5:], rtol=0, atol=1e-12)


@pytest.mark.slow
def test_a_plugin_metric_runs_through_every_command(
    site: Path, cli: Cli, tiny_gtzan_tree: TinyTree
) -> None:
    install(site, {"l1": "percmusic_l1:spec"})
    for args in (
        ("ingest", str(tiny_gtzan_tree.root)),
        ("filter",),
        ("features", "--frames", "128"),
    ):
        assert cli(*args).exit_code == 0, args
    listed = {r["name"]: r for r in cli.json("metrics")}
    assert listed["l1"]["origin"] == "package percmusic-l1"
    assert listed["l1"]["fast_pairwise"] is False and listed["l1"]["problem"] is None

    blocks = cli.json("distances", "--metric", "l1")
    assert {b["metric"] for b in blocks} == {"l1"} and len(blocks) >= 2
    store = Store(cli.store)
    view = split_view(store, "gtzan")
    stored = DistanceBlocks(store, view, DistanceConfig(metric="l1")).get("train", "train")
    train_images = view.images(store)[view.rows["train"]]
    np.testing.assert_allclose(stored, _l1_loop(train_images), rtol=0, atol=1e-12)

    (knn,) = cli.json("knn", "--metric", "l1", "--n-boot", "20")
    assert knn["metric"] == "l1" and 0.0 <= knn["test_f1"] <= 1.0
    stats = cli.json("distances", "stats", "--metric", "l1")
    assert {r["metric"] for r in stats} == {"l1"} and "all" in {r["group"] for r in stats}

    model = cli.json("train", "--loss", "l1", "--preset", "quick", "--steps", "2")
    assert model["loss"] == "l1" and model["steps_done"] == 2
    rows = cli.json("classify", "--model", model["model_id"], "--n-boot", "20", "--no-controls")
    assert [r["metric"] for r in rows] == ["l1"]
    listed_runs = cli.json("results")
    assert sum(r["metric"] == "l1" for r in listed_runs) == 2  # the KNN run and the latent one


def test_a_broken_plugin_is_named_with_its_reason_and_builtins_still_work(site: Path) -> None:
    install(
        site,
        {
            "l1": "percmusic_l1:spec",
            "gone": "percmusic_l1_not_installed:spec",
            "notaspec": "percmusic_l1:NOT_A_SPEC",
            "mse": "percmusic_l1:spec",
        },
    )
    rows = {r["name"]: r for r in registry.describe()}
    assert "ModuleNotFoundError" in rows["gone"]["problem"]
    assert "'gone'" in rows["gone"]["problem"] and "\n" not in rows["gone"]["problem"]
    assert "expected a MetricSpec" in rows["notaspec"]["problem"]
    assert "built-in name" in rows["mse (plugin)"]["problem"]
    assert rows["mse"]["origin"] == "built-in" and rows["mse"]["problem"] is None
    assert rows["l1"]["problem"] is None
    x = torch.rand(2, 1, 8, 8)
    assert registry.get("mse").distance(x, x, None).abs().max() == 0


def test_a_broken_plugin_is_a_one_line_usage_error_in_the_cli(site: Path, cli: Cli) -> None:
    install(site, {"gone": "percmusic_l1_not_installed:spec"})
    result = cli("distances", "--metric", "gone")
    assert result.exit_code == 1
    assert "metric 'gone' cannot be used" in result.output
    assert "ModuleNotFoundError" in result.output
    listed = cli("metrics")
    assert listed.exit_code == 0 and "broken" in listed.output
    trained = cli("train", "--loss", "gone", "--preset", "quick", "--steps", "1")
    assert trained.exit_code == 1 and "cannot be used" in trained.output
    assert api.models(Store(cli.store)) == []  # no phantom "training" row


@pytest.mark.slow  # trains two autoencoders per seed (--quick, shortened to 20 steps)
@pytest.mark.usefixtures("short_quick_preset")
def test_a_plugin_metric_runs_through_the_repeated_study(site: Path, cli: Cli) -> None:
    install(site, {"l1": "percmusic_l1:spec"})
    # 4 clips per class: 2 folds leave 2 training tracks per class for KNN's inner CV.
    assert cli("ingest", "--synthetic", "--clips-per-class", "4").exit_code == 0
    bad = cli("reproduce", "--quick", "--metrics", "mse,nope")
    assert bad.exit_code == 1 and "unknown metric 'nope'" in bad.output
    assert "l1" in bad.output and len(bad.output.strip().splitlines()) == 1
    few = cli("reproduce", "--quick", "--resamples", "99")
    assert few.exit_code == 1 and "--resamples" in few.output
    out = cli.json(
        "reproduce",
        "--quick",
        "--seeds",
        "2",
        "--folds",
        "2",
        "--metrics",
        "mse,l1",
        "--hubness",
        "mp",
        "--resamples",
        "400",
        "--device",
        "cpu",
    )
    assert out["metrics"] == ["mse", "l1"] and out["labels"]["l1"] == "L1 (plugin)"
    assert (out["n"]["folds"], out["n"]["seeds"], out["n"]["evaluation"]) == (2, 2, "cv-2")
    assert sum(out["n"]["test_tracks_per_fold"]) == out["n"]["tracks"]
    kinds = {(c["metric"], c["kind"]) for c in out["claims"]}
    for m in ("mse", "l1"):
        for kind in ("paper", "classifier", "representation", "training", "hubness"):
            assert (m, kind) in kinds
    assert all(c["test"] == "corrected resampled t-test" for c in out["claims"])
    assert set(out["hubness"]) == {"mse", "l1"} and set(out["gain"]) == {"mse", "l1"}
    assert {"knn-mp:l1", "knn:l1", "ae:l1"} <= set(out["summary"])
    assert len(out["summary"]["ae:l1"]["per_run"]) == 2  # folds x seeds
    assert out["n_boot"] == 400 and 0 < out["chance_f1"] < 1
    # `results` says which fold and seed each of the study's runs belongs to.
    listed = cli.json("results", "--kind", "knn", "--metric", "l1")
    assert {(r["fold"], r["seed"]) for r in listed} >= {("1/2", 0), ("2/2", 0)}
    assert {r["split_base"] for r in listed} == {listed[0]["split_base"]}
