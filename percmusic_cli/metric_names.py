"""Which metric names exist, found without importing any metric code, so that a config can
check a name on construction and the CLI can list names in its help without loading torch.

Built-in metrics are the modules of `percmusic_cli/metrics` that define a top-level `SPEC`
(one module per metric, named as the metric; found by reading the source, not importing it,
so machinery such as `pairwise.py` or a new helper module is never taken for a metric).
Installed packages add metrics through the entry-point group `percmusic.metrics`.
`percmusic_cli.metrics.registry` loads the modules these names point to."""

from __future__ import annotations

import functools
from importlib.metadata import EntryPoint

from percmusic_cli import discovery
from percmusic_cli.errors import UsageError

ENTRY_POINT_GROUP = "percmusic.metrics"
BUILTIN_PACKAGE = "percmusic_cli.metrics"


@functools.cache
def builtin_modules() -> dict[str, str]:
    """Built-in metric name -> module path, sorted by name."""
    return discovery.spec_modules(BUILTIN_PACKAGE)


@functools.cache
def plugin_entry_points() -> dict[str, EntryPoint]:
    """Installed plugin metrics by name; a plugin may not shadow a built-in name (the
    registry reports such a plugin as broken)."""
    return discovery.group_entry_points(ENTRY_POINT_GROUP)


def names() -> tuple[str, ...]:
    """Every registered metric name: built-ins first, then plugins, each sorted."""
    builtins = builtin_modules()
    plugins = [n for n in plugin_entry_points() if n not in builtins]
    return (*builtins, *plugins)


def check_name(name: str, what: str = "metric") -> str:
    """`name` if it is registered, else a UsageError that lists the registered names."""
    known = names()
    if name not in known:
        raise UsageError(f"unknown {what} {name!r}: choose one of {', '.join(known)}")
    return name


def refresh() -> None:
    """Forget what was found (tests that install or remove a plugin call it)."""
    builtin_modules.cache_clear()
    plugin_entry_points.cache_clear()
