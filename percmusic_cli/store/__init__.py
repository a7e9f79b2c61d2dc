"""The only code that touches DuckDB or array files."""

from percmusic_cli.store.arrays import ArrayRecord, read_array, write_array
from percmusic_cli.store.db import Store, locate

__all__ = ["ArrayRecord", "Store", "locate", "read_array", "write_array"]
