"""Third-party classifiers through the `percmusic.classifiers` entry points: a tiny
distribution written into a temporary site folder (a dist-info on sys.path, as pip would
leave it). A working plugin runs through the generic distance step and lists with the
built-ins; a broken one is named in one line and the built-ins keep working."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fixture_store import StoreCopies

from percmusic_cli import api
from percmusic_cli.classifiers import registry
from percmusic_cli.config import DistanceConfig
from percmusic_cli.errors import UsageError
from percmusic_cli.steps.distance_classifier import run_distance_classifier
from percmusic_cli.steps.views import split_view
from percmusic_cli.store import Store

MODULE = '''
import numpy as np

from percmusic_cli.classifiers.registry import ClassifierSpec
from percmusic_cli.experiments.report import ClassifierResult, Prediction, SelectionCurve
from percmusic_cli.experiments.stats import evaluate


def fit(get, labels, settings, class_order=None):
    """1-nearest neighbour, no selection."""
    nearest = np.argmin(get("test", "train"), axis=1)
    pred = [labels["train"][i] for i in nearest]
    true = list(labels["test"])
    ev = evaluate(true, pred, labels=class_order, n_boot=20)
    curve = SelectionCurve("n", [1.0], [0.0], 1.0, "fixed")
    return ClassifierResult(ev, curve, [Prediction(i, t, p) for i, (t, p) in
                                        enumerate(zip(true, pred))])


SPEC = ClassifierSpec(name="one_nn", label="1-NN", param="n", fit=fit)


def boom():
    raise RuntimeError("cannot reach the licence server\\nsecond line")
'''


def install(site: Path, entry_points: dict[str, str]) -> None:
    (site / "percmusic_one_nn.py").write_text(MODULE)
    info = site / "percmusic_one_nn-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: percmusic-one-nn\nVersion: 0.1.0\n"
    )
    lines = "".join(f"{name} = {target}\n" for name, target in entry_points.items())
    (info / "entry_points.txt").write_text(f"[percmusic.classifiers]\n{lines}")


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "site"
    path.mkdir()
    monkeypatch.syspath_prepend(str(path))
    registry.reset()
    yield path
    sys.modules.pop("percmusic_one_nn", None)
    registry.reset()


def test_a_plugin_classifier_runs_and_lists_with_the_builtins(
    site: Path, tmp_path: Path, store_copies: StoreCopies
) -> None:
    install(site, {"one_nn": "percmusic_one_nn:SPEC"})
    assert registry.get("one_nn").origin == "package percmusic-one-nn"
    assert api.run_kinds()[:2] == ("knn", "latent") and "one_nn" in api.run_kinds()
    store = store_copies.copy(tmp_path / "store")
    with store.writer(0.0, "test"):
        (row,) = run_distance_classifier(
            store, split_view(store, "fixture"), "one_nn", ["mse"], DistanceConfig()
        )
    (listed,) = api.results(store, kind="one_nn")
    assert listed["run_id"] == row["run_id"] and listed["run_id"].startswith("one_nn-mse-")
    figures = {f.name: f for f in api.figure_data(store)}
    assert figures["fig-one_nn-confusion"].title.startswith("1-NN: confusion matrices (test)")
    with pytest.raises(UsageError, match="own command"):
        run_distance_classifier(
            store, split_view(store, "fixture"), "knn", ["mse"], DistanceConfig()
        )


def test_a_broken_plugin_is_named_in_one_line_and_the_builtins_work(
    site: Path, tmp_path: Path
) -> None:
    install(
        site,
        {
            "one_nn": "percmusic_one_nn:SPEC",
            "boom": "percmusic_one_nn:boom",
            "gone": "percmusic_one_nn_not_installed:SPEC",
            "notaspec": "percmusic_one_nn:fit",
            "knn": "percmusic_one_nn:SPEC",
        },
    )
    problems = registry.broken()
    assert set(problems) == {"boom", "gone", "notaspec", "knn (plugin)"}
    assert all("\n" not in reason for reason in problems.values())
    assert problems["boom"] == (
        "classifier plugin 'boom' is broken: RuntimeError: cannot reach the licence server"
    )
    assert "ModuleNotFoundError" in problems["gone"] and "'gone'" in problems["gone"]
    assert "built-in name" in problems["knn (plugin)"]
    with pytest.raises(UsageError, match=r"classifier 'boom' cannot be used: .*licence server"):
        registry.get("boom")
    names = registry.names()
    assert names[:2] == ("knn", "latent") and names[-1] == "one_nn"  # plugins after built-ins
    assert not set(problems) & set(names)
    assert registry.get("knn").origin == registry.BUILT_IN
    with pytest.raises(UsageError, match=r"^--kind 'boom': classifier plugin 'boom' is broken"):
        api.results(Store(tmp_path / "none"), kind="boom")
    with pytest.raises(UsageError, match=r"^unknown --kind 'svm': choose one of knn, latent"):
        api.results(Store(tmp_path / "none"), kind="svm")
    rows = {r["name"]: r for r in api.classifiers()}
    assert rows["boom"]["problem"] == problems["boom"] and rows["knn"]["problem"] is None
