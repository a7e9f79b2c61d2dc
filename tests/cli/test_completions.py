"""The committed completion scripts are what the app generates today."""

from __future__ import annotations

import subprocess
from pathlib import Path

from percmusic_cli.cli.completions import render_all

ROOT = Path(__file__).resolve().parents[2]


def test_completion_scripts_are_current() -> None:
    for name, text in render_all().items():
        committed = (ROOT / "completions" / name).read_text(encoding="utf-8")
        assert committed == text, f"completions/{name} is stale: run `make completions`"


def _complete(*words: str) -> list[str]:
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
    )
    return out.stdout.split()


def test_bash_completes_commands_subcommands_and_options() -> None:
    assert _complete("kn") == ["knn"]
    assert _complete("distances", "st") == ["stats"]
    assert "--metric" in _complete("knn", "--me")
    # an option's value is skipped when finding the command
    assert _complete("--store", "somewhere", "res") == ["results"]
    assert "--plot" in _complete("results", "show", "run-1", "--p")
