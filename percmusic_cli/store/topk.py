"""Streamed KNN artefacts: each query's k nearest fit tracks (indices and distances) as two
checksummed arrays, `<base>-idx.npy` and `<base>-dist.npy`, with row-block parts beside
`<base>.npy` while they are being computed (a killed run resumes at the first missing one)."""

from __future__ import annotations

import numpy as np

from percmusic_cli.store import arrays as a
from percmusic_cli.store import tables as t
from percmusic_cli.store.db import Store


def _paths(base: str) -> tuple[str, str]:
    return f"{base}-idx.npy", f"{base}-dist.npy"


def find(store: Store, base: str) -> tuple[np.ndarray, np.ndarray] | None:
    """The stored (idx, dist) of `base`, verified, or None."""
    if not store.exists():
        return None
    with store.connect(read_only=True) as con:
        recs = [t.array_record(con, p) for p in _paths(base)]
    if recs[0] is None or recs[1] is None:
        return None
    return a.read_array(store.root, recs[0]), a.read_array(store.root, recs[1])


def save(store: Store, base: str, idx: np.ndarray, dist: np.ndarray) -> None:
    """Write both arrays, record them in one transaction, then drop the row-block parts."""
    p_idx, p_dist = _paths(base)
    recs = [
        a.write_array(store.root, p_idx, idx, kind="knn-topk"),
        a.write_array(store.root, p_dist, dist, kind="knn-topk"),
    ]
    with store.connect() as con:
        con.execute("BEGIN TRANSACTION")
        for rec in recs:
            t.record_array(con, rec)
        con.execute("COMMIT")
    a.remove_parts(store.root, f"{base}.npy")
