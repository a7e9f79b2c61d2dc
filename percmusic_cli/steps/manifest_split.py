"""`filter --split manifest`: the split a dataset's own metadata declares (a manifest's
split column, FMA's set.split), as recorded at ingest."""

from __future__ import annotations

from percmusic_cli.errors import UsageError
from percmusic_cli.store import Store
from percmusic_cli.store.source_splits import source_split


def declared_parts(store: Store, dataset: str) -> dict[str, str]:
    """Track -> the part its source declared; empty when the dataset declares no split."""
    with store.connect(read_only=True) as con:
        return source_split(con, dataset)


def declared_split(store: Store, dataset: str, ok_ids: set[str]) -> dict[str, str]:
    """Usable track -> its declared part; a track the source gave no part is "excluded"."""
    declared = declared_parts(store, dataset)
    if not declared:
        raise UsageError(
            f"dataset {dataset!r} declares no split of its own (ingest a manifest with a "
            "split column, or FMA); use --split random or file"
        )
    return {tid: declared.get(tid, "excluded") for tid in ok_ids}
