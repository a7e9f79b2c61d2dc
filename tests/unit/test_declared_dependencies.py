"""Issue 19 item 9: what the code imports is declared, and the installed versions are in
the ranges pyproject declares (typer is pinned: cli/app.py uses its vendored Click)."""

from __future__ import annotations

import ast
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
# import name -> distribution name, where they differ
DIST = {"sklearn": "scikit-learn", "pytorch_msssim": "pytorch-msssim", "yaml": "pyyaml"}
OPTIONAL = {"dask", "distributed", "dask_jobqueue"}  # the [dask] extra


def _declared() -> dict[str, Requirement]:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    return {Requirement(d).name.lower(): Requirement(d) for d in deps}


def _imported() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "percmusic_cli").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module.split(".")[0])
    return names


def test_every_third_party_import_is_declared() -> None:
    declared = _declared()
    third_party = {
        n
        for n in _imported()
        if n not in sys.stdlib_module_names and n != "percmusic_cli" and n not in OPTIONAL
    }
    missing = {n for n in third_party if DIST.get(n, n).replace("_", "-").lower() not in declared}
    assert not missing, f"imported but not declared in pyproject: {sorted(missing)}"


@pytest.mark.parametrize("dist", ["typer", "scipy", "textual", "rich"])
def test_installed_version_is_in_the_declared_range(dist: str) -> None:
    requirement = _declared()[dist]
    assert requirement.specifier.contains(metadata.version(dist), prereleases=True), (
        dist,
        metadata.version(dist),
        str(requirement.specifier),
    )
