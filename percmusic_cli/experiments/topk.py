"""Each row's k nearest columns, kept while distance tiles stream past (no dense matrix).

The result equals `knn.nearest` on the dense matrix, ties included: tiles of one row range
arrive in ascending column order, and a stable sort of (kept so far, new tile) puts equal
distances in column order, as the stable sort of a whole row does."""

from __future__ import annotations

import numpy as np

from percmusic_cli.errors import DataError


class TopK:
    """Running (indices, distances) of each row's k nearest columns, nearest first."""

    def __init__(self, n_rows: int, k: int) -> None:
        self.k = k
        self.idx = np.full((n_rows, k), -1, dtype=np.int64)
        self.dist = np.full((n_rows, k), np.inf, dtype=np.float64)

    def push(self, r: slice, tile: np.ndarray, col0: int) -> None:
        """Merge distances of rows `r` to columns col0 .. col0 + tile width."""
        if not np.all(np.isfinite(tile)):
            raise DataError("a distance tile holds NaN or infinite values")
        cols = np.broadcast_to(np.arange(col0, col0 + tile.shape[1]), tile.shape)
        self.idx[r], self.dist[r] = merge(self.idx[r], self.dist[r], cols, tile, self.k)

    def result(self) -> tuple[np.ndarray, np.ndarray]:
        if (self.idx < 0).any():
            raise DataError(f"fewer than k={self.k} columns were seen for some rows")
        return self.idx, self.dist


def merge(
    idx_a: np.ndarray, dist_a: np.ndarray, idx_b: np.ndarray, dist_b: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """The k nearest of two candidate lists per row; ties keep a's entries first, so give
    the lower column indices as `a`."""
    d = np.concatenate([dist_a, dist_b], axis=1)
    i = np.concatenate([idx_a, idx_b], axis=1)
    order = np.argsort(d, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(i, order, axis=1), np.take_along_axis(d, order, axis=1)
