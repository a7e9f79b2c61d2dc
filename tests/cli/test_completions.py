"""The committed completion scripts are what the app generates today."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from percmusic_cli.cli.completions import render_all
from percmusic_cli.store import Store

ROOT = Path(__file__).resolve().parents[2]


def test_completion_scripts_are_current() -> None:
    for name, text in render_all().items():
        committed = (ROOT / "completions" / name).read_text(encoding="utf-8")
        assert committed == text, f"completions/{name} is stale: run `make completions`"


def _complete(*words: str) -> list[str]:
    return _complete_in(dict(os.environ), *words)


def test_bash_completes_commands_subcommands_and_options() -> None:
    assert _complete("kn") == ["knn"]
    assert _complete("distances", "st") == ["stats"]
    assert "--metric" in _complete("knn", "--me")
    # an option's value is skipped when finding the command
    assert _complete("--store", "somewhere", "res") == ["results"]
    assert "--plot" in _complete("results", "show", "run-1", "--p")


# Values: names from the core, ids from the store through `percmusic __complete-ids` --------

ENTRY_IMPORTS_CHECK = """
import sys
sys.argv = ["percmusic", "__complete-ids", "runs", sys.argv[1]]
from percmusic_cli.cli import entry
try:
    entry.main()
except SystemExit as exc:
    assert exc.code == 0, exc.code
heavy = sorted({"typer", "rich", "torch", "numba", "numpy", "librosa"} & set(sys.modules))
assert not heavy, heavy
"""


@pytest.fixture
def id_store(tmp_path: Path) -> Path:
    """A store holding two runs and one model (rows only: completion reads just the ids)."""
    store = Store(tmp_path / "ids-store")
    with store.writer(0.0, "test"), store.connect() as con:
        for run_id in ("knn-mse-00000001", "knn-nlpd-00000002"):
            con.execute(
                "INSERT INTO runs (run_id, kind, name, dataset, split, input_key, config, result) "
                "VALUES (?, 'knn', 'mse', 'd', 's', 'i', '{}', '{}')",
                [run_id],
            )
        con.execute(
            "INSERT INTO models (model_id, loss, data, model_config, train_config, "
            "checkpoint_dir, steps_done, steps_total, status) "
            "VALUES ('ae-nlpd-noise-0000beef', 'nlpd', 'noise', '{}', '{}', 'c', 1, 1, 'done')"
        )
    return store.root


@pytest.fixture
def shell_env(tmp_path: Path) -> dict[str, str]:
    """PATH with a `percmusic` that runs this checkout's console-script entry point."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "percmusic"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m percmusic_cli.cli.entry "$@"\n')
    shim.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != "PERCMUSIC_STORE"}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"
    env["PYTHONPATH"] = str(ROOT)
    return env


def _complete_in(env: dict[str, str], *words: str) -> list[str]:
    script = ROOT / "completions" / "percmusic.bash"
    line = " ".join(f"'{w}'" for w in words)
    out = subprocess.run(
        [
            "bash",
            "-c",
            f"source '{script}'; COMP_WORDS=(percmusic {line}); "
            f"COMP_CWORD={len(words)}; _percmusic; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        ],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return out.stdout.split()


def test_bash_completes_names_from_the_core() -> None:
    from percmusic_cli import metric_names
    from percmusic_cli.config import PRESETS
    from percmusic_cli.devices import DEVICE_CHOICES
    from percmusic_cli.steps.split import METHODS

    metrics = list(metric_names.names())
    assert _complete("knn", "--metric", "") == [*metrics, "all"]
    assert _complete("train", "--loss", "") == metrics
    assert _complete("train", "--loss", "msss") == ["msssim"]
    assert _complete("train", "--preset", "") == list(PRESETS)
    assert _complete("filter", "--split", "") == list(METHODS)
    assert _complete("features", "--device", "c") == [d for d in DEVICE_CHOICES if d[0] == "c"]
    assert "--help" in _complete("knn", "--metric", "nlpd", "--")


def test_bash_completes_ids_from_the_store_on_the_line(
    id_store: Path, shell_env: dict[str, str]
) -> None:
    runs = _complete_in(shell_env, "--store", str(id_store), "results", "show", "knn-")
    assert runs == ["knn-mse-00000001", "knn-nlpd-00000002"]
    models = _complete_in(shell_env, f"--store={id_store}", "classify", "--model", "")
    assert models == ["ae-nlpd-noise-0000beef"]


def test_bash_completes_ids_from_the_environment_store(
    id_store: Path, shell_env: dict[str, str]
) -> None:
    shell_env["PERCMUSIC_STORE"] = str(id_store)
    assert _complete_in(shell_env, "results", "show", "knn-n") == ["knn-nlpd-00000002"]
    # no store at all: no ids, no error
    del shell_env["PERCMUSIC_STORE"]
    assert _complete_in(shell_env, "--store", "/nonexistent", "results", "show", "knn") == []


def test_id_lookup_imports_nothing_heavy(id_store: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", ENTRY_IMPORTS_CHECK, str(id_store)], env=env, check=True)


def test_fish_script_completes_values_and_ids() -> None:
    from percmusic_cli import metric_names

    text = (ROOT / "completions" / "percmusic.fish").read_text(encoding="utf-8")
    assert f"-l loss -r -f -a '{' '.join(metric_names.names())}'" in text
    assert '-l model -r -f -a "(percmusic __complete-ids models (__percmusic_store)' in text
    assert "__fish_seen_subcommand_from show' -a \"(percmusic __complete-ids runs" in text
    # the hidden command is not offered as a command
    assert "__complete-ids" not in _complete("")
    assert "-a __complete-ids" not in text


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (("compare", "knn-"), ["knn-mse-00000001", "knn-nlpd-00000002"]),
        (("compare", "knn-mse-00000001", "knn-n"), ["knn-nlpd-00000002"]),
        (("figures", "knn-m"), ["knn-mse-00000001"]),
        (("figures", "--format", "svg", "knn-n"), ["knn-nlpd-00000002"]),
        (("rm", "ae-"), ["ae-nlpd-noise-0000beef"]),
    ],
)
def test_commands_taking_run_ids_complete_them(
    id_store: Path, shell_env: dict[str, str], words: tuple[str, ...], expected: list[str]
) -> None:
    assert _complete_in(shell_env, "--store", str(id_store), *words) == expected


def test_every_run_id_argument_completes_ids() -> None:
    # The class, not the examples: any command whose positional argument names runs.
    from percmusic_cli.cli.completions import ID_ARGUMENTS, tree

    for node in tree():
        if node.path in {("compare",), ("figures",), ("results", "show"), ("rm",)}:
            assert node.ids, node.path
    assert set(ID_ARGUMENTS) == {"run", "runs", "ids"}
