"""The only code that touches DuckDB or array files.

Names are loaded on first use (PEP 562), so `store.ids`, which shell completion calls on
every TAB, does not pay for numpy and the array code."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from percmusic_cli.store.arrays import ArrayRecord, read_array, write_array
    from percmusic_cli.store.db import Store, locate

__all__ = ["ArrayRecord", "Store", "locate", "read_array", "write_array"]

_HOME = {
    "ArrayRecord": "arrays",
    "read_array": "arrays",
    "write_array": "arrays",
    "Store": "db",
    "locate": "db",
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)
