"""Every command has help with an example and appears in the README."""

from __future__ import annotations

import re
from pathlib import Path

import typer.main
from typer.testing import CliRunner

from percmusic_cli.cli.app import app

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def _commands() -> list[tuple[str, ...]]:
    group = typer.main.get_command(app)
    found: list[tuple[str, ...]] = []

    def walk(cmd: object, path: tuple[str, ...]) -> None:
        subs = getattr(cmd, "commands", None) or {}
        if path:
            found.append(path)
        for name, sub in subs.items():
            walk(sub, (*path, name))

    walk(group, ())
    return found


def test_there_are_the_commands_the_issues_ask_for() -> None:
    names = {c[0] for c in _commands()}
    assert {
        "ingest",
        "filter",
        "features",
        "status",
        "distances",
        "knn",
        "train",
        "classify",
        "results",
        "reproduce",
        "demo",
        "dashboard",
        "check",
    } <= names


def test_every_command_has_help_with_an_example() -> None:
    runner = CliRunner()
    for path in _commands():
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, path
        assert "Example" in result.stdout, f"`percmusic {' '.join(path)} --help` has no example"


def test_every_command_appears_in_the_readme() -> None:
    for path in _commands():
        assert re.search(rf"percmusic (\S+ )*{' '.join(path)}\b", README), path
