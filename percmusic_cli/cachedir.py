"""The user-level cache folder: `$PERCMUSIC_CACHE`, default `~/.cache/percmusic`.

numba's compiled-function cache goes under it (`numba/`), not beside the installed
package, which may be read-only or shared. numba reads NUMBA_CACHE_DIR once, when it is
first imported (librosa imports it too), so the package's `__init__` calls
`configure_numba` before anything else can import numba."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ENV_VAR = "PERCMUSIC_CACHE"


def cache_dir() -> Path:
    env = os.environ.get(ENV_VAR)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "percmusic"


def configure_numba() -> None:
    """Point numba's on-disk cache at cache_dir()/numba unless the user chose a folder."""
    target = str(cache_dir() / "numba")
    os.environ.setdefault("NUMBA_CACHE_DIR", target)
    config = getattr(sys.modules.get("numba.core.config"), "CACHE_DIR", None)
    if config is not None and not config:
        # numba was imported first (by the caller): its config already read the variable.
        sys.modules["numba.core.config"].CACHE_DIR = os.environ["NUMBA_CACHE_DIR"]  # type: ignore[attr-defined]
