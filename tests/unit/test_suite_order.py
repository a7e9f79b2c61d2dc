"""The scheduling hint names files that exist: a renamed or removed file would drop out of it
silently and run last."""

from __future__ import annotations

from pathlib import Path

from suite_order import LONGEST_FIRST


def test_every_file_named_first_exists_once() -> None:
    root = Path(__file__).resolve().parents[2]
    assert [path for path in LONGEST_FIRST if not (root / path).is_file()] == []
    assert len(set(LONGEST_FIRST)) == len(LONGEST_FIRST)
