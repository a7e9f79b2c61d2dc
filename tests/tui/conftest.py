"""The dashboard tests' stores (built by tests/fixture_store.py, once per label set and
session) as fixtures, and Textual settings that keep the tests fast."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import textual.constants
from fixture_store import StoreCopies

from percmusic_cli.store import Store


@pytest.fixture(scope="session", autouse=True)
def _no_animations() -> Iterator[None]:
    """Apps start with animations off (TEXTUAL_ANIMATIONS=none, read when Textual is first
    imported, before this file): a tab's underline or a scroll lands at once instead of
    gliding for 0.3 s that every key press waits out. The end state, and so every assertion
    and snapshot, is the same."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(textual.constants, "TEXTUAL_ANIMATIONS", "none")
        yield


@pytest.fixture(scope="session")
def fixture_home(tmp_path_factory: pytest.TempPathFactory, store_copies: StoreCopies) -> Path:
    """A folder holding `store/`: the fixture store (one per session)."""
    home = tmp_path_factory.mktemp("dashboard")
    store_copies.copy(home / "store")
    return home


@pytest.fixture
def fixture_store(fixture_home: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    """The fixture store by a relative path (cwd is its folder), for stable snapshots."""
    monkeypatch.chdir(fixture_home)
    return Store(Path("store"))
