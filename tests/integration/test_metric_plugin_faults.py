"""Metric plugins that misbehave are stopped where they misbehave, by name, and never break
other commands: names that would escape the store, plugins that exit or print on import,
return NaN, an ndarray, the wrong shape or no gradient, raise, are similarities or
asymmetric; and a plugin's artefact keys carry its package and version. Each plugin is a
temporary dist-info on sys.path, as pip would leave it."""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from clitools import Cli
from trees import TinyTree

from percmusic_cli.config import DistanceConfig, KnnConfig, ModelConfig, TrainConfig
from percmusic_cli.errors import DataError, StoreError, UsageError
from percmusic_cli.experiments.train import check_inputs
from percmusic_cli.metrics import registry
from percmusic_cli.metrics.pairwise import MemoryTileSink, PairwiseEngine, compute_matrix
from percmusic_cli.models.losses import loss_function
from percmusic_cli.steps.knn import check_weights
from percmusic_cli.steps.train import model_id
from percmusic_cli.store.arrays import inside, write_array

HEADER = """
from percmusic_cli.metrics.registry import MetricSpec
import torch
"""

Install = Callable[..., None]


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Install]:
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    modules: list[str] = []

    def install(
        module: str, body: str, entry: dict[str, str], dist: str = "pm-x", version: str = "0.1"
    ) -> None:
        (site / f"{module}.py").write_text(HEADER + textwrap.dedent(body))
        info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
        lines = "".join(f"{name} = {module}:{target}\n" for name, target in entry.items())
        (info / "entry_points.txt").write_text(f"[percmusic.metrics]\n{lines}")
        modules.append(module)
        registry.reset()

    registry.reset()
    yield install
    for module in modules:
        sys.modules.pop(module, None)
    registry.reset()


def spec_of(name: str, distance: str, **flags: object) -> str:
    extra = "".join(f", {k}={v!r}" for k, v in flags.items())
    return f"SPEC_{name} = MetricSpec(name={name!r}, label={name!r}, distance={distance}{extra})\n"


L1 = "def l1(x, y, s=None):\n    return (x - y).abs().flatten(1).mean(1)\n"
IMAGES = np.random.default_rng(0).random((7, 8, 8)).astype(np.float32)


def matrix(name: str, cols: np.ndarray | None = None) -> np.ndarray:
    engine = PairwiseEngine(DistanceConfig(metric=name), device="cpu")
    return compute_matrix(engine, IMAGES, cols, 3, MemoryTileSink())


# ------------------------------------------------------------------ names that escape


@pytest.mark.parametrize("bad", ["../../../../tmp/x", "a,b", "Upper", "x" * 40, "a b", "-x"])
def test_a_plugin_name_that_is_not_plain_is_refused_before_its_code_runs(
    plugin: Install, tmp_path: Path, bad: str
) -> None:
    marker = tmp_path / "ran"
    plugin(
        "evil", f"open({str(marker)!r}, 'w').close()\n" + L1 + spec_of("x", "l1"), {bad: "SPEC_x"}
    )
    rows = {r["name"]: r for r in registry.describe()}
    assert "not a plain metric name" in rows[bad]["problem"]
    with pytest.raises(UsageError, match="cannot be used"):
        registry.get(bad)
    assert not marker.exists()  # the module was never imported


def test_path_builders_refuse_names_outside_the_store(tmp_path: Path) -> None:
    root = tmp_path / "store"
    root.mkdir()
    assert inside(root, "arrays/dist-l1-ab.npy") == root / "arrays/dist-l1-ab.npy"
    for bad in ("arrays/dist-x/../../../x.npy", "../x.npy", "/tmp/x.npy", "."):
        with pytest.raises(StoreError, match="outside the store"):
            inside(root, bad)
    with pytest.raises(StoreError):
        write_array(root, "arrays/../../escaped.npy", np.zeros(2), "distances")
    assert not (tmp_path / "escaped.npy").exists()
    # a store folder the user linked elsewhere (a bigger disk) is still the store's
    (tmp_path / "disk").mkdir()
    (root / "arrays").symlink_to(tmp_path / "disk")
    rec = write_array(root, "arrays/kept.npy", np.zeros(2), "distances")
    assert rec.shape == (2,) and (tmp_path / "disk" / "kept.npy").is_file()


# ------------------------------------------------------------------ isolated loading


def test_exit_and_print_on_import_are_caught_and_reported(
    plugin: Install, capfd: pytest.CaptureFixture[str]
) -> None:
    plugin("quits", "import sys\nsys.exit(3)\n", {"quits": "SPEC"}, dist="pm-quits")
    noisy = "print('hello from a plugin')\nimport os\nos.write(1, b'raw fd')\n"
    plugin("chatty", noisy + L1 + spec_of("chatty", "l1"), {"chatty": "SPEC_chatty"},
           dist="pm-chatty")  # fmt: skip
    rows = {r["name"]: r for r in registry.describe()}
    assert "sys.exit(3)" in rows["quits"]["problem"] and rows["quits"]["import_s"] >= 0
    assert rows["chatty"]["problem"] is None and "hello" in rows["chatty"]["printed"]
    assert "raw fd" in rows["chatty"]["printed"]
    assert rows["chatty"]["import_s"] is not None and rows["mse"]["import_s"] is None
    out = capfd.readouterr().out
    assert "hello" not in out and "raw fd" not in out


def test_the_study_metrics_never_load_a_plugin(plugin: Install) -> None:
    plugin("quits2", "import sys\nsys.exit(0)\n", {"zz": "SPEC"}, dist="pm-q2")
    assert registry.study_names() == ("mse", "msssim", "nlpd")
    assert "quits2" not in sys.modules


def test_metrics_json_stays_valid_with_plugins_that_exit_and_print(
    plugin: Install, cli: Cli
) -> None:
    plugin("q3", "import sys\nsys.exit()\n", {"q3": "SPEC"}, dist="pm-q3")
    plugin("p3", "print('{not json')\n" + L1 + spec_of("p3", "l1"), {"p3": "SPEC_p3"},
           dist="pm-p3")  # fmt: skip
    result = cli("metrics", "--json")
    assert result.exit_code == 0
    rows = {r["name"]: r for r in json.loads(result.stdout)}
    assert rows["q3"]["problem"] and rows["p3"]["problem"] is None
    table = cli("metrics")
    assert table.exit_code == 0 and "load s" in table.stdout


# ------------------------------------------------------------------ what a plugin returns


BAD_RETURNS = {
    "nan": ("def f(x, y, s=None):\n    return (x - y).flatten(1).mean(1) * float('nan')\n",
            DataError, "non-finite distance"),
    "inf": ("def f(x, y, s=None):\n    return (x - y).abs().flatten(1).mean(1) / 0.0\n",
            DataError, "non-finite distance"),
    "nd": ("def f(x, y, s=None):\n    return (x - y).abs().flatten(1).mean(1).numpy()\n",
           UsageError, "returned a ndarray"),
    "scalar": ("def f(x, y, s=None):\n    return (x - y).abs().mean()\n",
               UsageError, "returned shape ()"),
    "col": ("def f(x, y, s=None):\n    return (x - y).abs().flatten(1).mean(1, keepdim=True)\n",
            UsageError, "returned shape"),
    "raises": ("def f(x, y, s=None):\n    raise RuntimeError('boom')\n",
               UsageError, "failed on a sample pair: RuntimeError: boom"),
    "exits": ("def f(x, y, s=None):\n    raise SystemExit(0)\n",
              UsageError, "failed on a sample pair: SystemExit: 0"),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(BAD_RETURNS))
def test_a_bad_return_is_refused_by_name_and_no_tile_is_kept(plugin: Install, name: str) -> None:
    body, error, said = BAD_RETURNS[name]
    plugin(f"bad_{name}", body + spec_of(name, "f"), {name: f"SPEC_{name}"})
    sink = MemoryTileSink()
    engine = PairwiseEngine(DistanceConfig(metric=name), device="cpu")
    with pytest.raises(error, match=said) as caught:
        compute_matrix(engine, IMAGES, None, 3, sink)
    assert repr(name) in str(caught.value) and "\n" not in str(caught.value)
    assert sink.tiles == {}


TRAIN_FAULTS = {
    "scalar": ("def f(x, y, s=None):\n    return (x - y).abs().mean()\n", "returned shape ()"),
    "col": ("def f(x, y, s=None):\n    return (x - y).abs().flatten(1).mean(1, keepdim=True)\n",
            r"returned shape \(2, 1\)"),
    "nograd": ("def f(x, y, s=None):\n    return (x - y).abs().flatten(1).mean(1).detach()\n",
               "without a gradient"),
    "nan": ("def f(x, y, s=None):\n    return (x - y).flatten(1).mean(1) * float('nan')\n",
            "non-finite loss"),
    "nd": ("def f(x, y, s=None):\n    return (x - y).abs().flatten(1).mean(1).detach().numpy()\n",
           "returned a ndarray"),
    "raises": ("def f(x, y, s=None):\n    raise ValueError('nope')\n", "ValueError: nope"),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(TRAIN_FAULTS))
def test_train_checks_the_loss_before_a_row_is_written(plugin: Install, name: str) -> None:
    body, said = TRAIN_FAULTS[name]
    plugin(f"tr_{name}", body + spec_of(name, "f"), {name: f"SPEC_{name}"})
    cfg = TrainConfig(loss=name, steps=2, batch_size=2, patch=16, device="cpu")
    with pytest.raises(UsageError, match=said) as caught:
        check_inputs(cfg, ModelConfig(hidden_channels=4, latent_channels=2, stages=2), None)
    assert repr(name) in str(caught.value)


def test_a_good_plugin_loss_has_per_pair_values_and_a_gradient(plugin: Install) -> None:
    plugin("good", L1 + spec_of("good", "l1"), {"good": "SPEC_good"})
    x_hat = torch.rand(3, 1, 8, 8, requires_grad=True)
    loss = loss_function("good")(x_hat, torch.rand(3, 1, 8, 8))
    loss.backward()
    assert loss.shape == () and x_hat.grad is not None


# ------------------------------------------------------------------ direction and symmetry

SIM = "def sim(x, y, s=None):\n    return 1 - (x - y).abs().flatten(1).mean(1)\n"
ASYM = "def asym(x, y, s=None):\n    return ((x - y).clamp(min=0) * x).flatten(1).mean(1)\n"


def test_a_similarity_must_declare_its_direction(plugin: Install) -> None:
    plugin("sims", SIM + spec_of("sim", "sim") + spec_of("simok", "sim", lower_is_better=False),
           {"sim": "SPEC_sim", "simok": "SPEC_simok"})  # fmt: skip
    with pytest.raises(UsageError, match=r"'sim' is declared lower is better.*lower_is_better"):
        matrix("sim")
    got = matrix("simok")
    want = -(1 - np.abs(IMAGES[:, None] - IMAGES[None]).mean(axis=(2, 3)))
    np.fill_diagonal(want, 0)
    np.testing.assert_allclose(got, want, atol=1e-6)
    with pytest.raises(UsageError, match="'simok' is a similarity"):
        check_weights(["mse", "simok"], KnnConfig(weights="distance"))
    check_weights(["simok"], KnnConfig(weights="uniform"))


def test_an_asymmetric_metric_is_refused_unless_declared_then_averaged(plugin: Install) -> None:
    plugin("asyms", ASYM + spec_of("asym", "asym") + spec_of("asymok", "asym", symmetric=False),
           {"asym": "SPEC_asym", "asymok": "SPEC_asymok"})  # fmt: skip
    with pytest.raises(UsageError, match=r"'asym' is declared symmetric.*symmetric=False"):
        matrix("asym")
    whole = matrix("asymok")
    np.testing.assert_allclose(whole, whole.T, atol=0)
    x = IMAGES.astype(np.float64)
    d = (np.clip(x[:, None] - x[None], 0, None) * x[:, None]).mean(axis=(2, 3))
    want = (d + d.T) / 2
    np.fill_diagonal(want, 0)
    np.testing.assert_allclose(whole, want, atol=1e-6)
    # a rectangular block and its transpose agree with the square matrix
    rect = matrix("asymok", IMAGES[4:])
    np.testing.assert_allclose(rect, whole[:, 4:], atol=1e-6)


# ------------------------------------------------------------------ keys carry the version


def test_a_plugins_keys_carry_its_package_version_and_spec_version(plugin: Install) -> None:
    plugin("v1", L1 + spec_of("vv", "l1"), {"vv": "SPEC_vv"}, dist="pm-v", version="1.0")
    cfg = TrainConfig(loss="vv", steps=2, batch_size=2, patch=16, device="cpu")
    tiny = ModelConfig(hidden_channels=4, latent_channels=2, stages=2)
    first = registry.key_fields(DistanceConfig(metric="vv"))
    assert first["plugin"] == {"package": "pm-v", "version": "1.0", "spec_version": ""}
    mid = model_id(cfg, tiny, None)
    sys.modules.pop("v1", None)
    for info in (Path(sys.path[0])).glob("pm_v-*.dist-info"):
        (info / "METADATA").write_text("Metadata-Version: 2.1\nName: pm-v\nVersion: 1.1\n")
    registry.reset()
    assert registry.key_fields(DistanceConfig(metric="vv")) != first
    assert model_id(cfg, tiny, None) != mid
    edited = L1 + spec_of("vv", "l1", version="dev2")
    (Path(sys.path[0]) / "v1.py").write_text(HEADER + edited)
    sys.modules.pop("v1", None)
    registry.reset()
    assert registry.key_fields(DistanceConfig(metric="vv"))["plugin"]["spec_version"] == "dev2"
    assert "plugin" not in registry.key_fields(DistanceConfig(metric="mse"))


# ------------------------------------------------------------------ through the CLI


@pytest.mark.slow
def test_commands_keep_working_and_json_stays_valid_beside_broken_plugins(
    plugin: Install, cli: Cli, tiny_gtzan_tree: TinyTree
) -> None:
    plugin("q4", "import sys\nsys.exit(0)\n", {"q4": "SPEC"}, dist="pm-q4")
    plugin("p4", "print('noise')\n" + L1 + spec_of("p4", "l1"), {"p4": "SPEC_p4"}, dist="pm-p4")
    plugin("n4", "def f(x, y, s=None):\n    return (x - y).flatten(1).mean(1) * float('nan')\n"
           + spec_of("n4", "f"), {"n4": "SPEC_n4"}, dist="pm-n4")  # fmt: skip
    for args in (
        ("ingest", str(tiny_gtzan_tree.root)),
        ("filter",),
        ("features", "--frames", "64"),
    ):
        assert cli(*args).exit_code == 0, args
    for args in (
        ("distances", "--metric", "mse", "--json"),
        ("knn", "--metric", "mse", "--n-boot", "20", "--json"),
        ("distances", "--metric", "p4", "--json"),
        ("metrics", "--json"),
    ):
        result = cli(*args)
        assert result.exit_code == 0, (args, result.output)
        assert json.loads(result.stdout), args
    nan = cli("distances", "--metric", "n4")
    assert nan.exit_code == 2 and "metric 'n4' gave a non-finite distance" in nan.output
    again = cli("distances", "--metric", "n4")
    assert again.exit_code == 2  # nothing was stored, so nothing is reused
    assert not list((cli.store / "arrays").glob("dist-n4-*.npy"))


@pytest.mark.slow
def test_an_asymmetric_plugin_predicts_the_same_whether_or_not_stats_ran_first(
    plugin: Install, tmp_path: Path, tiny_gtzan_tree: TinyTree
) -> None:
    from typer.testing import CliRunner

    plugin("asym5", ASYM + spec_of("asym5", "asym", symmetric=False), {"asym5": "SPEC_asym5"})
    shown = []
    for name, first in (
        ("plain", ()),
        ("stats_first", ("distances", "stats", "--metric", "asym5")),
    ):
        c = Cli(tmp_path / name, CliRunner())
        for args in (
            ("ingest", str(tiny_gtzan_tree.root)),
            ("filter",),
            ("features", "--frames", "64"),
            first,
        ):
            if args:
                assert c(*args).exit_code == 0, args
        (run,) = c.json("knn", "--metric", "asym5", "--n-boot", "20", "--k-max", "3")
        detail = c.json("results", "show", run["run_id"])
        shown.append(
            (run["run_id"], [(p["pred_label"], p["distances"]) for p in detail["predictions"]])
        )
    assert shown[0][0] == shown[1][0]
    assert shown[0][1] == shown[1][1]


FAST = """
import numpy as np
from percmusic_cli.metrics.registry import FastPairwise

def prep(images, settings, device):
    return images.astype(np.float64)

def good(rows, cols, r, c):
    return np.abs(rows[r][:, None] - cols[c][None]).mean(axis=(2, 3))

def wrong_shape(rows, cols, r, c):
    return good(rows, cols, r, c)[:, :1]

def nan_tile(rows, cols, r, c):
    return good(rows, cols, r, c) * np.nan

def listed(rows, cols, r, c):
    return good(rows, cols, r, c).tolist()

def skew(rows, cols, r, c):  # asymmetric: d(x, y) weights by x
    return (np.clip(rows[r][:, None] - cols[c][None], 0, None) * rows[r][:, None]).mean(axis=(2, 3))
"""


@pytest.mark.parametrize(
    ("tile", "error", "said"),
    [
        ("wrong_shape", UsageError, r"gave \(3, 1\), expected an array of shape \(3, 3\)"),
        ("nan_tile", DataError, "non-finite distance"),
        ("listed", UsageError, "gave list"),
    ],
)
def test_a_fast_path_tile_is_checked_too(
    plugin: Install, tile: str, error: type[Exception], said: str
) -> None:
    flags = f"fast_pairwise=FastPairwise(prep, {tile})"
    spec = f"SPEC_fp = MetricSpec(name='fp', label='fp', distance=l1, {flags})\n"
    plugin(f"fast_{tile}", FAST + L1 + spec, {"fp": "SPEC_fp"})
    with pytest.raises(error, match=said) as caught:
        matrix("fp")
    assert "'fp'" in str(caught.value)


def test_an_asymmetric_fast_path_is_averaged_over_both_orders(plugin: Install) -> None:
    flags = "fast_pairwise=FastPairwise(prep, skew), symmetric=False"
    spec = f"SPEC_fs = MetricSpec(name='fs', label='fs', distance=asym, {flags})\n"
    plugin("fast_skew", FAST + ASYM + spec, {"fs": "SPEC_fs"})
    rect = matrix("fs", IMAGES[4:])
    x = IMAGES.astype(np.float64)
    d = (np.clip(x[:, None] - x[None], 0, None) * x[:, None]).mean(axis=(2, 3))
    np.testing.assert_allclose(rect, ((d + d.T) / 2)[:, 4:], atol=1e-9)
