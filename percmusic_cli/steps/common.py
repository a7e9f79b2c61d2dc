"""Helpers every step shares: choosing the dataset, run provenance."""

from __future__ import annotations

import functools
import platform
import subprocess
from importlib import metadata
from pathlib import Path

from percmusic_cli.config import check_dataset_name
from percmusic_cli.errors import DataError, UsageError
from percmusic_cli.store import Store
from percmusic_cli.store import tables as t


def resolve_dataset(store: Store, name: str | None) -> str:
    """The named dataset, or the only one in the store."""
    if name is not None:
        check_dataset_name(name)
    with store.connect(read_only=True) as con:
        names = t.dataset_names(con)
    if not names:
        raise DataError(f"store {store.root} has no datasets: run `percmusic ingest` first")
    if name is None:
        if len(names) > 1:
            raise UsageError(
                f"the store holds several datasets ({', '.join(names)}): choose one with --dataset"
            )
        return names[0]
    if name not in names:
        raise DataError(f"no dataset {name!r} in the store (have: {', '.join(names)})")
    return name


@functools.cache
def git_revision() -> str | None:
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=here,
        capture_output=True,
        text=True,
        timeout=5,
        check=False,
    ).stdout.strip()
    return out.stdout.strip() + ("-dirty" if dirty else "")


@functools.cache
def package_versions() -> dict[str, str]:
    names = [
        "percmusic",
        "torch",
        "numpy",
        "librosa",
        "scikit-learn",
        "duckdb",
        "pytorch-msssim",
        "numba",
        "soxr",
        "soundfile",
    ]
    versions = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions
