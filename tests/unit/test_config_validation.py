"""Every config dataclass checks its own fields on construction: one-line UsageError naming
the option and what it accepts, for library users and CLI users alike."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import pytest

from percmusic_cli import config as c
from percmusic_cli.errors import UsageError
from percmusic_cli.store import locate

BAD_FIELDS: list[tuple[type, dict[str, Any], str]] = [
    (c.SpectrogramConfig, {"n_mels": 10**8}, "--n-mels"),
    (c.SpectrogramConfig, {"n_mels": 4}, "--n-mels"),
    (c.SpectrogramConfig, {"n_frames": 10**11}, "--frames"),
    (c.SpectrogramConfig, {"hop_length": 0}, "hop_length"),
    (c.SpectrogramConfig, {"fmax": 1e9}, "fmax"),
    (c.SpectrogramConfig, {"top_db": math.nan}, "top_db"),
    (c.MsssimConfig, {"win_size": 8}, "msssim.win_size"),
    (c.MsssimConfig, {"weights": ()}, "msssim.weights"),
    (c.MsssimConfig, {"k1": -0.1}, "msssim.k1"),
    (c.NlpdConfig, {"levels": 0}, "nlpd.levels"),
    (c.DistanceConfig, {"tile": 0}, "--tile"),
    (c.DistanceConfig, {"device": "foo"}, "--device"),
    (c.DistanceConfig, {"threads": 1_000_000}, "--threads"),
    (c.DistanceConfig, {"threads": 0}, "--threads"),
    (c.KnnConfig, {"k_max": 0}, "--k-max"),
    (c.KnnConfig, {"weights": "distanse"}, "--weights"),
    (c.KnnConfig, {"select_on": "test"}, "--select-on"),
    (c.KnnConfig, {"refit": "all"}, "--refit"),
    (c.KnnConfig, {"cv_folds": 1}, "--cv-folds"),
    (c.KnnConfig, {"n_boot": 10**11}, "--n-boot"),
    (c.KnnConfig, {"seed": -1}, "--seed"),
    (c.KnnConfig, {"seed": 2**32}, "--seed"),
    (c.KnnConfig, {"seed": 2**64}, "--seed"),
    (c.KnnConfig, {"seed": 1.5}, "--seed"),
    (c.ModelConfig, {"hidden_channels": 10**8}, "--hidden"),
    (c.ModelConfig, {"latent_channels": 0}, "--latent"),
    (c.ModelConfig, {"kernel_size": 4}, "kernel_size"),
    (c.ModelConfig, {"nonlinearity": "tanh"}, "--nonlinearity"),
    (c.TrainConfig, {"data": "images"}, "--data"),
    (c.TrainConfig, {"lr": math.nan}, "--lr"),
    (c.TrainConfig, {"lr": math.inf}, "--lr"),
    (c.TrainConfig, {"lr": -1.0}, "--lr"),
    (c.TrainConfig, {"lr": 0.0}, "--lr"),
    (c.TrainConfig, {"batch_size": 10**8}, "--batch"),
    (c.TrainConfig, {"patch": 10**8}, "--patch"),
    (c.TrainConfig, {"steps": 0}, "--steps"),
    (c.TrainConfig, {"seed": -5}, "--seed"),
    (c.TrainConfig, {"device": "gpu"}, "--device"),
    (c.TrainConfig, {"amp": "yes"}, "amp"),
    (c.ClassifyConfig, {"pool": "max"}, "--pool"),
    (c.ClassifyConfig, {"c_grid": ()}, "c_grid"),
    (c.ClassifyConfig, {"c_grid": (1.0, math.nan)}, "c_grid"),
    (c.ClassifyConfig, {"c_grid": (0.0,)}, "c_grid"),
    (c.ClassifyConfig, {"n_boot": -1}, "--n-boot"),
    (c.ClassifyConfig, {"device": "tpu"}, "--device"),
]


@pytest.mark.parametrize(("cls", "fields", "option"), BAD_FIELDS)
def test_a_bad_field_is_one_line_naming_it(cls: type, fields: dict[str, Any], option: str) -> None:
    with pytest.raises(UsageError) as info:
        cls(**fields)
    message = str(info.value)
    assert message.startswith(f"{option} "), message
    assert "\n" not in message
    # dataclasses.replace goes through __post_init__ too: no way around the check.
    with pytest.raises(UsageError):
        dataclasses.replace(cls(), **fields)


def test_defaults_presets_and_edges_are_accepted() -> None:
    for cls in (c.SpectrogramConfig, c.DistanceConfig, c.KnnConfig, c.ModelConfig):
        cls()
    c.KnnConfig(seed=2**32 - 1, n_boot=0)
    c.DistanceConfig(threads=c.max_threads())
    c.TrainConfig(lr=1e10)  # finite: divergence is training's business, not a usage error
    assert set(c.PRESETS) == {"default", "quick", "gpu"}


def test_the_preset_merge_applies_overrides_and_ignores_none() -> None:
    train, model = c.preset("quick", loss="mse", steps=None, hidden_channels=8)
    quick_train, quick_model = c.PRESETS["quick"]
    assert train == dataclasses.replace(quick_train, loss="mse")
    assert model == dataclasses.replace(quick_model, hidden_channels=8)
    with pytest.raises(UsageError, match=r"^--preset 'fast': choose one of default, quick, gpu"):
        c.preset("fast")
    with pytest.raises(UsageError, match=r"^--lr "):
        c.preset("default", lr=math.nan)
    with pytest.raises(UsageError, match="unknown training or model fields: colour"):
        c.preset("default", colour="red")


@pytest.mark.parametrize("name", ["synthetic", "gtzan", "my data-2", "fma_small"])
def test_plain_dataset_names_pass(name: str) -> None:
    assert c.check_dataset_name(name) == name


@pytest.mark.parametrize(
    "name", ["", " ", ".", "..", "../../outside", "/abs", "a/b", "a\\b", "x\x1b[31m", "a\nb"]
)
def test_dataset_names_that_could_leave_the_store_are_refused(name: str) -> None:
    with pytest.raises(UsageError, match=r"^--dataset "):
        c.check_dataset_name(name)


def test_empty_and_root_store_paths_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for bad in ("", "  ", "/", "//", Path("/")):
        with pytest.raises(UsageError, match=r"^--store "):
            locate(bad)
    monkeypatch.setenv("PERCMUSIC_STORE", "/")
    with pytest.raises(UsageError, match=r"^\$PERCMUSIC_STORE "):
        locate()
    assert locate(tmp_path / "s") == tmp_path / "s"


def test_knn_votes_never_treat_an_unknown_weighting_as_distance() -> None:
    import numpy as np

    from percmusic_cli.experiments.knn import predict_all_k

    d = np.array([[1.0, 2.0, 3.0]])
    codes = np.array([0, 1, 1])
    assert predict_all_k(d, codes, 2, 3, "distance")[0][:, 0].tolist() == [0, 0, 0]
    assert predict_all_k(d, codes, 2, 3, "uniform")[0][:, 0].tolist() == [0, 0, 1]
    with pytest.raises(UsageError, match=r"^--weights 'distanse': choose one of uniform"):
        predict_all_k(d, codes, 2, 3, "distanse")


@pytest.mark.parametrize(
    ("archive", "dataset"), [("ok.tar.gz", "../../outside"), (".tar.gz", None)]
)
def test_an_archive_never_extracts_outside_the_store(
    tmp_path: Path, archive: str, dataset: str | None
) -> None:
    import io
    import tarfile

    from percmusic_cli import api

    path = tmp_path / "in" / archive
    path.parent.mkdir()
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo("rock/a.wav")
        info.size = 4
        tar.addfile(info, io.BytesIO(b"RIFF"))
    store = api.open_store(tmp_path / "deep" / "store")
    with pytest.raises(UsageError, match=r"^--dataset "):
        api.ingest(store, path, dataset=dataset)
    assert not (tmp_path / "outside").exists() and not (tmp_path / "deep" / "outside").exists()
    assert not (store.root / "sources").exists()
