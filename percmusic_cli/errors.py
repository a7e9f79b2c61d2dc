"""Errors the core raises; the CLI maps each to an exit code and a one-line message."""

from __future__ import annotations


class PercmusicError(Exception):
    """Base class. `exit_code` 2 means a data or store problem, 1 a usage problem."""

    exit_code = 2


class UsageError(PercmusicError):
    """The user asked for something that cannot be done as asked (bad option combination)."""

    exit_code = 1


class DataError(PercmusicError):
    """Input data is missing, malformed or insufficient (no tracks, unknown split, ...)."""


class DecodeError(DataError):
    """One audio file could not be decoded or failed a sanity check."""


class StoreError(PercmusicError):
    """The store is unusable: cannot be opened, migrated or written."""


class StoreLockedError(StoreError):
    """Another process holds the store's writer lock."""


class ArrayIntegrityError(StoreError):
    """An array file is missing, altered, or not what its table row records."""


class ImageTooSmallError(ValueError, PercmusicError):
    """An image is smaller than a metric's window, scales or pyramid levels allow."""
