"""Hostile option values (issue 13 item 14): each is a usage error, exit 1, one line on
stderr naming the option, checked in the core before anything is written."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from clitools import Cli
from trees import TinyTree
from typer.testing import CliRunner

from percmusic_cli import api
from percmusic_cli.cli.app import app
from percmusic_cli.config import TrainConfig
from percmusic_cli.errors import UsageError


@pytest.fixture(scope="module")
def ready(tmp_path_factory: pytest.TempPathFactory, gtzan_tree: TinyTree) -> Cli:
    """Ingested, randomly split, 128-frame features: every command gets past the store."""
    c = Cli(tmp_path_factory.mktemp("bad") / "store", CliRunner())
    for args in (
        ("ingest", str(gtzan_tree.root)),
        ("filter", "--split", "random"),
        ("features", "--frames", "128"),
    ):
        result = c(*args)
        assert result.exit_code == 0, (args, result.output)
    return c


BAD = [
    (("distances", "--metric", "mse", "--threads", "1000000"), "--threads"),
    (("distances", "--metric", "mse", "--tile", "0"), "--tile"),
    (("filter", "--split", "random", "--ratios", "nan,nan,nan"), "--ratios"),
    (("filter", "--split", "random", "--ratios", "inf,1,1"), "--ratios"),
    (("filter", "--split", "random", "--ratios", "0.9,0.9,0.9"), "--ratios"),
    (("filter", "--split", "random", "--ratios", "1e308,1,1"), "--ratios"),
    (("filter", "--split", "random", "--ratios", "1,0,0"), "--ratios"),
    (("filter", "--split", "random", "--seed", "-1"), "--seed"),
    (("filter", "--split", "random", "--seed", str(2**64)), "--seed"),
    (("knn", "--metric", "mse", "--seed", "-3"), "--seed"),
    (("knn", "--metric", "mse", "--n-boot", str(10**11)), "--n-boot"),
    (("knn", "--metric", "mse", "--weights", "distanse"), "--weights"),
    (("knn", "--metric", "mse", "--device", "foo"), "--device"),
    (("classify", "--n-boot", str(10**9)), "--n-boot"),
    (("classify", "--pool", "max"), "--pool"),
    (("features", "--frames", str(10**11)), "--frames"),
    (("features", "--frames", "3"), "--frames"),
    (("features", "--n-mels", str(10**8)), "--n-mels"),
    (("features", "--frames", "128", "--device", "foo"), "--device"),  # reused features
    (("train", "--lr", "nan"), "--lr"),
    (("train", "--lr", "-1"), "--lr"),
    (("train", "--lr", "inf"), "--lr"),
    (("train", "--seed", str(2**64)), "--seed"),
    (("train", "--patch", str(10**8)), "--patch"),
    (("train", "--hidden", str(10**8)), "--hidden"),
    (("train", "--batch", str(10**8)), "--batch"),
    (("train", "--preset", "fast"), "--preset"),
    (("train", "--batch", "4096", "--patch", "4096"), "--batch 4096 x --hidden 64 x --patch 4096"),
    (("train", "--nonlinearity", "tanh"), "--nonlinearity"),
    (("train", "--data", "images"), "--data"),
    (("reproduce", "--device", "foo"), "--device"),
    (("reproduce", "--preset", "fast"), "--preset"),
    (("reproduce", "--seed", "-1"), "--seed"),
    (("reproduce", "--resamples", "99"), "--resamples"),
    (("reproduce", "--resamples", "1000001"), "--resamples"),
    (("reproduce", "--metrics", "mse,nope"), "unknown metric 'nope': choose one of mse"),
    (("reproduce", "--hubness", "xx"), "--hubness"),
    (("knn", "--hubness", "xx"), "--hubness"),
    (("ingest", "--synthetic", "/some/path"), "--synthetic"),
    (("ingest", "--synthetic", "--clips-per-class", str(10**8)), "--clips-per-class"),
    (("demo", "--clips-per-class", "1"), "--clips-per-class"),
    (("demo", "--device", "foo"), "--device"),
    (("knn", "--dataset", "../../outside"), "--dataset"),
    (("ingest", ".", "--dataset", "/abs/name"), "--dataset"),
]


@pytest.mark.parametrize(("args", "option"), BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_value_is_a_one_line_usage_error_naming_the_option(
    ready: Cli, args: tuple[str, ...], option: str
) -> None:
    result = ready(*args)
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: {option}"), lines[0]
    assert "internal error" not in result.output


def test_a_binary_split_file_is_a_usage_error_naming_it(ready: Cli, tmp_path: Path) -> None:
    binary = tmp_path / "split.bin"
    binary.write_bytes(bytes(range(256)) * 4)
    result = ready("filter", "--split", "file", "--file", str(binary))
    assert result.exit_code == 1, result.output
    assert result.stderr.strip() == f"error: --file {binary}: not a text split file of " + (
        "'<track> <part>' lines"
    )


def test_a_bad_loss_leaves_no_model_row(ready: Cli) -> None:
    before = api.models(api.open_store(ready.store))
    result = ready("train", "--loss", "foo", "--preset", "quick")
    assert result.exit_code == 1
    assert api.models(api.open_store(ready.store)) == before


@pytest.mark.parametrize("store", ["", "/"])
def test_empty_or_root_store_is_refused(store: str) -> None:
    result = CliRunner().invoke(app, ["--store", store, "status"])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: --store "), result.stderr


def test_library_and_cli_users_get_the_same_message(ready: Cli) -> None:
    store = api.open_store(ready.store)
    with pytest.raises(UsageError) as lib:
        api.split(store, method="random", ratios="0.9,0.9,0.9")
    cli = ready("filter", "--split", "random", "--ratios", "0.9,0.9,0.9")
    assert cli.stderr.strip() == f"error: {lib.value}"
    with pytest.raises(UsageError) as lib:
        TrainConfig(lr=math.nan)
    cli = ready("train", "--lr", "nan")
    assert cli.stderr.strip() == f"error: {lib.value}"
