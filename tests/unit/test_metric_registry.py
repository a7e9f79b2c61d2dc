"""The metric registry: names, one error for unknown names, artefact keys unchanged, and
config checks on construction."""

from __future__ import annotations

import dataclasses

import pytest
from clitools import Cli

from percmusic_cli.config import DistanceConfig, MsssimConfig, NlpdConfig, TrainConfig
from percmusic_cli.errors import UsageError
from percmusic_cli.hashing import param_hash
from percmusic_cli.metrics import registry
from percmusic_cli.steps.distances import metric_list


def test_built_in_metrics_in_order_with_their_labels() -> None:
    assert registry.names()[:4] == ("mse", "msssim", "nlpd", "ssim")
    labels = {s.name: s.label for s in registry.specs()}
    assert labels["mse"] == "MSE" and labels["msssim"] == "1 - MS-SSIM"
    assert labels["nlpd"] == "NLPD" and labels["ssim"] == "1 - SSIM"
    assert registry.study_names() == ("mse", "msssim", "nlpd")


def test_unknown_name_is_one_error_listing_the_registered_names() -> None:
    with pytest.raises(UsageError, match=r"unknown metric 'foo': choose one of mse, msssim, nlpd"):
        registry.get("foo")
    with pytest.raises(UsageError, match="unknown metric 'foo'"):
        DistanceConfig(metric="foo")
    with pytest.raises(UsageError, match="unknown loss 'foo'"):
        TrainConfig(loss="foo")
    with pytest.raises(UsageError, match="unknown loss"):
        dataclasses.replace(TrainConfig(), loss="msssim2")


def test_key_fields_are_what_they_were_before_the_registry() -> None:
    # Stored artefacts are keyed by these: a change would orphan every existing matrix.
    assert registry.key_fields(DistanceConfig(metric="mse")) == {"metric": "mse"}
    assert registry.key_fields(DistanceConfig(metric="msssim")) == {
        "metric": "msssim",
        "msssim": MsssimConfig(),
    }
    assert registry.key_fields(DistanceConfig(metric="nlpd", nlpd=NlpdConfig(levels=4))) == {
        "metric": "nlpd",
        "nlpd": NlpdConfig(levels=4),
    }
    assert param_hash(registry.key_fields(DistanceConfig(metric="nlpd"))) == "6151609ae2586127"
    assert param_hash(registry.key_fields(DistanceConfig(metric="msssim"))) == "201435245b95e223"


def test_metric_list_takes_all_one_name_or_a_comma_list() -> None:
    assert metric_list("all") == ["mse", "msssim", "nlpd"]
    assert metric_list("ssim") == ["ssim"]
    assert metric_list("nlpd, ssim,nlpd") == ["nlpd", "ssim"]
    with pytest.raises(UsageError, match=r"unknown metric 'bad'.*or all"):
        metric_list("mse,bad")


def test_metrics_command_lists_origin_label_direction_and_fast_path(cli: Cli) -> None:
    rows = {r["name"]: r for r in cli.json("metrics")}
    assert rows["nlpd"] == {
        "name": "nlpd",
        "origin": "built-in",
        "label": "NLPD",
        "direction": "lower is better",
        "fast_pairwise": True,
        "study": True,
        "problem": None,
        "symmetric": True,
        "import_s": None,  # a built-in: not a plugin whose load is timed
        "printed": None,
    }
    assert rows["ssim"]["fast_pairwise"] is False and rows["ssim"]["study"] is False
    table = cli("metrics")
    assert table.exit_code == 0 and "1 - MS-SSIM" in table.output and "no (generic)" in table.output
