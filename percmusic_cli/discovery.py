"""Finding what a registry holds without importing it: built-in modules of a package that
define a top-level `SPEC` (read as source, so a helper module is never taken for one), and
the installed plugins of an entry-point group. Shared by the metric and classifier
registries."""

from __future__ import annotations

import importlib.util
import pkgutil
import re
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

_DEFINES_SPEC = re.compile(r"^SPEC\s*[:=]", re.MULTILINE)


def spec_modules(package: str) -> dict[str, str]:
    """Name -> module path of `package`'s public modules that define `SPEC`, sorted."""
    spec = importlib.util.find_spec(package)
    assert spec is not None and spec.submodule_search_locations is not None
    found = {}
    for folder in spec.submodule_search_locations:
        for info in pkgutil.iter_modules([folder]):
            source = Path(folder) / f"{info.name}.py"
            if info.name.startswith("_") or info.ispkg or not source.is_file():
                continue
            if _DEFINES_SPEC.search(source.read_text(encoding="utf-8")):
                found[info.name] = f"{package}.{info.name}"
    return dict(sorted(found.items()))


def group_entry_points(group: str) -> dict[str, EntryPoint]:
    """The installed entry points of `group` by name, sorted."""
    eps = sorted(entry_points(group=group), key=lambda ep: ep.name)
    return {ep.name: ep for ep in eps}
