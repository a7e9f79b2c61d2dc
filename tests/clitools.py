"""Running `percmusic` commands through Typer's runner against one store."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

from percmusic_cli.cli.app import app


@dataclass
class Cli:
    store: Path
    runner: CliRunner

    def __call__(self, *args: str) -> Result:
        return self.runner.invoke(app, ["--quiet", "--store", str(self.store), *args])

    def json(self, *args: str) -> Any:
        result = self(*args, "--json")
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)


def empty_store(root: Path) -> Path:
    """A store with its database and no data: only `ingest` and `demo` create one from
    the command line, so a test that trains on noise from the CLI starts from this."""
    from percmusic_cli.store import Store

    root.mkdir(parents=True, exist_ok=True)
    with Store(root).connect():
        pass
    return root
