"""The dashboard tests' store (built by tests/fixture_store.py) as fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest
from fixture_store import build_store

from percmusic_cli.store import Store


@pytest.fixture(scope="session")
def fixture_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding `store/`: the fixture store (built once per session)."""
    home = tmp_path_factory.mktemp("dashboard")
    build_store(home / "store")
    return home


@pytest.fixture
def fixture_store(fixture_home: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    """The fixture store by a relative path (cwd is its folder), for stable snapshots."""
    monkeypatch.chdir(fixture_home)
    return Store(Path("store"))
