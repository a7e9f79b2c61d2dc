"""The metric registry: one `MetricSpec` per metric, and the only place that maps a metric
name to behaviour (loss, pairwise path, settings, artefact key, minimum image size).

A built-in metric is one module of this package, named as the metric, that defines
`SPEC = MetricSpec(...)`; an installed package adds one through the entry-point group
`percmusic.metrics` (the entry point names a MetricSpec, or a function returning one).
Names are found without importing anything (`percmusic_cli.metric_names`); a metric's module
is imported the first time its spec is asked for, so importing this module stays cheap. A
plugin that fails to import or gives a bad spec is reported by name with a one-line reason
(`broken()`); the other metrics keep working.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import io
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from percmusic_cli import metric_names
from percmusic_cli.errors import UsageError

if TYPE_CHECKING:
    import numpy as np
    from torch import Tensor

    from percmusic_cli.config import DistanceConfig

BUILT_IN = "built-in"
# A metric's name becomes part of file names (arrays/dist-<name>-<key>.npy, checkpoints/
# ae-<name>-...), CLI choices and comma lists: a lowercase identifier, nothing else.
NAME_RULE = re.compile(r"[a-z][a-z0-9_]{0,31}")


def check_metric_name(name: object) -> str:
    """`name` if it is a plain metric name, else a ValueError saying what one is."""
    if not isinstance(name, str) or not NAME_RULE.fullmatch(name):
        raise ValueError(
            f"name {name!r} is not a plain metric name (a lowercase letter, then up to 31 "
            "lowercase letters, digits or _)"
        )
    return name


@dataclass(frozen=True)
class FastPairwise:
    """A metric's own pairwise path: per-image state prepared once, then tiles.

    prepare(images, settings, device): images float32 (N, H, W) in [0, 1] -> state.
    tile(rows, cols, r, c): float64 (len r, len c) distances between rows[r] and cols[c];
    `rows is cols` when both sides are the same prepared set.
    parallel_tiles: CPU tiles may run side by side (one torch thread each); False when the
    path parallelises inside a tile itself."""

    prepare: Callable[[np.ndarray, Any, str], object]
    tile: Callable[[Any, Any, slice, slice], np.ndarray]
    parallel_tiles: bool = True


def one_pixel(_settings: Any = None) -> int:
    """The minimum side of a metric that any image suits."""
    return 1


@dataclass(frozen=True)
class MetricSpec:
    """One metric (CONTRIBUTING.md documents every field for plugin authors).

    distance(x, y, settings): differentiable, batched: (B, 1, H, W) x 2 in [0, 1] -> (B,);
    used as the training loss (its batch mean) and, without a fast path, for pairwise
    matrices (the generic batched, tiled path). config_type: the dataclass of the metric's
    settings (its fields go into artefact keys; None: no settings). min_side(settings): the
    smallest image side it accepts. lower_is_better: False for a similarity (negated, so
    that lower means closer everywhere). symmetric: d(x, y) == d(y, x); an asymmetric
    metric's matrices hold (d(x, y) + d(y, x)) / 2. study: one of the paper's metrics
    (`--metric all`, `reproduce`; built-ins only). version: joins a plugin's artefact keys
    beside its package's version (bump it when editing an unreleased plugin). origin and
    package are filled in by the registry."""

    name: str
    label: str
    distance: Callable[[Tensor, Tensor, Any], Tensor]
    config_type: type | None = None
    min_side: Callable[[Any], int] = one_pixel
    lower_is_better: bool = True
    fast_pairwise: FastPairwise | None = None
    study: bool = False
    origin: str = BUILT_IN
    symmetric: bool = True
    version: str = ""
    package: tuple[str, str] | None = None  # a plugin's (distribution name, version)

    @property
    def is_plugin(self) -> bool:
        return self.origin != BUILT_IN

    @property
    def direction(self) -> str:
        return "lower is better" if self.lower_is_better else "higher is better"

    def default_settings(self) -> Any:
        return None if self.config_type is None else self.config_type()

    def as_distance(self, x: Tensor, y: Tensor, settings: Any) -> Tensor:
        """`distance` oriented so that lower means closer (a similarity is negated)."""
        d = self.distance(x, y, settings)
        return d if self.lower_is_better else -d


_specs: dict[str, MetricSpec] = {}
_broken: dict[str, str] = {}
_import_s: dict[str, float] = {}  # seconds each plugin took to load
_printed: dict[str, str] = {}  # what a plugin printed while loading (kept off stdout)


def names() -> tuple[str, ...]:
    """Every registered metric name (built-ins, then plugins); imports no metric."""
    return metric_names.names()


def get(name: str) -> MetricSpec:
    """The spec of `name`; UsageError listing the registered names, or saying why a broken
    plugin cannot be used."""
    metric_names.check_name(name)
    if name not in _specs and name not in _broken:
        _load(name)
    if name in _broken:
        raise UsageError(f"metric {name!r} cannot be used: {_broken[name]}")
    return _specs[name]


def specs() -> tuple[MetricSpec, ...]:
    """Every usable metric's spec, in `names()` order (broken plugins left out)."""
    out = []
    for name in names():
        if name not in _specs and name not in _broken:
            _load(name)
        if name in _specs:
            out.append(_specs[name])
    return tuple(out)


def broken() -> dict[str, str]:
    """Registered names that cannot be used -> a one-line reason."""
    specs()
    return {n: _broken[n] for n in names() if n in _broken} | _shadowing()


def describe() -> list[dict[str, Any]]:
    """One row per registered name (`percmusic metrics`): name, origin, label, direction,
    fast_pairwise, study, `problem` (None, or why a broken one cannot be used), symmetric,
    import_s (a plugin's load time; None for built-ins) and printed (what a plugin printed
    while loading, kept off stdout; None when nothing)."""
    rows: list[dict[str, Any]] = []
    for name in names():
        try:
            spec = get(name)
        except UsageError:
            row = _row(name, _origin(name), None, None, False, False, _broken[name])
            rows.append({**row, "symmetric": None, **_load_notes(name)})
            continue
        fast = spec.fast_pairwise is not None
        row = _row(name, spec.origin, spec.label, spec.direction, fast, spec.study, None)
        rows.append({**row, "symmetric": spec.symmetric, **_load_notes(name)})
    for name, reason in _shadowing().items():
        row = _row(name, "package", None, None, False, False, reason)
        rows.append({**row, "symmetric": None, "import_s": None, "printed": None})
    return rows


def _load_notes(name: str) -> dict[str, Any]:
    took = _import_s.get(name)
    return {"import_s": None if took is None else round(took, 3), "printed": _printed.get(name)}


def _row(
    name: str,
    origin: str,
    label: str | None,
    direction: str | None,
    fast: bool,
    study: bool,
    problem: str | None,
) -> dict[str, Any]:
    return {
        "name": name,
        "origin": origin,
        "label": label,
        "direction": direction,
        "fast_pairwise": fast,
        "study": study,
        "problem": problem,
    }


def _origin(name: str) -> str:
    if name in metric_names.builtin_modules():
        return BUILT_IN
    return _package(metric_names.plugin_entry_points()[name])


def study_names() -> tuple[str, ...]:
    """The paper's metrics, in registry order (what `--metric all` means): built-ins only,
    so `--metric all` and `reproduce` never load (or depend on) a plugin."""
    out = []
    for name in metric_names.builtin_modules():
        spec = get(name)
        if spec.study:
            out.append(name)
    return tuple(out)


def settings(spec: MetricSpec, config: DistanceConfig) -> Any:
    """The metric's settings in `config`: the first of config.msssim, config.nlpd and
    config.params of the spec's config type, or that type's defaults."""
    if spec.config_type is None:
        return None
    for candidate in (config.msssim, config.nlpd, *config.params):
        if type(candidate) is spec.config_type:
            return candidate
    return spec.default_settings()


def key_fields(config: DistanceConfig) -> dict[str, object]:
    """What a distance artefact's key hashes: the metric's name and its settings."""
    spec = get(config.metric)
    fields: dict[str, object] = {"metric": spec.name}
    chosen = settings(spec, config)
    if chosen is not None:
        fields[spec.name] = chosen
    fields.update(plugin_key(spec))
    return fields


def plugin_key(spec: MetricSpec) -> dict[str, object]:
    """What a plugin adds to the keys of everything made with it: its distribution's name
    and version and the spec's `version`, so a fixed or upgraded plugin never reuses what
    an older one made. Empty for a built-in (whose keys a test pins)."""
    if not spec.is_plugin:
        return {}
    dist, version = spec.package or ("", "")
    return {"plugin": {"package": dist, "version": version, "spec_version": spec.version}}


def min_side(spec: MetricSpec, chosen: Any) -> int:
    return int(spec.min_side(chosen))


def reset() -> None:
    """Forget loaded specs and found names (for tests that install or remove a plugin)."""
    _specs.clear()
    _broken.clear()
    _import_s.clear()
    _printed.clear()
    metric_names.refresh()


def _shadowing() -> dict[str, str]:
    builtins = metric_names.builtin_modules()
    return {
        f"{name} (plugin)": f"{_package(ep)} defines {name!r}, a built-in name; it is ignored"
        for name, ep in metric_names.plugin_entry_points().items()
        if name in builtins
    }


def _package(ep: Any) -> str:
    dist = getattr(ep, "dist", None)
    return f"package {dist.name}" if dist is not None else "package"


def _load(name: str) -> None:
    builtins = metric_names.builtin_modules()
    try:
        if name in builtins:
            obj = getattr(importlib.import_module(builtins[name]), "SPEC", None)
            if obj is None:
                raise TypeError(f"module {builtins[name]} defines no SPEC")
            _specs[name] = _checked(obj, name)
        else:
            _specs[name] = _load_plugin(name)
    except Exception as exc:  # any failure of third-party code: report it, keep going
        where = "built-in metric" if name in builtins else "metric plugin"
        _broken[name] = f"{where} {name!r} is broken: {_reason(exc)}"


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    reason = text.splitlines()[0] if text else ""
    return f"{type(exc).__name__}" + (f": {reason}" if reason else "")


def _load_plugin(name: str) -> MetricSpec:
    """Load a plugin isolated from the command that asked: what it prints is captured (so
    JSON on stdout stays valid), SystemExit is a load failure, the time taken is kept."""
    ep = metric_names.plugin_entry_points()[name]
    check_metric_name(name)  # before its code runs: the name alone is refused
    printed = io.StringIO()
    started = time.perf_counter()
    try:
        with _stdout_fd_to(printed), contextlib.redirect_stdout(printed):
            obj = ep.load()
            if callable(obj) and not isinstance(obj, MetricSpec):
                obj = obj()
    except SystemExit as exc:
        raise RuntimeError(f"it called sys.exit({exc.code!r}) while loading") from None
    finally:
        _import_s[name] = time.perf_counter() - started
        if printed.getvalue():
            _printed[name] = printed.getvalue()[:200]
    dist = getattr(ep, "dist", None)
    package = (str(dist.name), str(dist.version)) if dist is not None else ("", "")
    spec = _checked(obj, name)
    return dataclasses.replace(spec, origin=_package(ep), package=package, study=False)


@contextlib.contextmanager
def _stdout_fd_to(sink: io.StringIO) -> Iterator[None]:
    """File descriptor 1 sent to a temporary file meanwhile (what a plugin's C code or
    subprocess writes there), its text then added to `sink`. Only on the main thread: a
    worker thread (the dashboard's) must not take fd 1 from the rest of the process."""
    import os
    import sys
    import tempfile
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    try:
        sys.stdout.flush()
        saved = os.dup(1)
    except (OSError, ValueError):  # no fd 1 (embedded interpreters): the Python level only
        yield
        return
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 1)
        try:
            yield
        finally:
            os.dup2(saved, 1)
            os.close(saved)
            tmp.seek(0)
            sink.write(tmp.read().decode("utf-8", "replace"))


def _checked(obj: object, name: str) -> MetricSpec:
    if not isinstance(obj, MetricSpec):
        raise TypeError(f"expected a MetricSpec, got {type(obj).__name__}")
    if obj.name != name:
        raise ValueError(f"spec is named {obj.name!r}, registered as {name!r}")
    check_metric_name(obj.name)
    if not obj.label or not isinstance(obj.label, str):
        raise ValueError("spec has no label")
    if not callable(obj.distance) or not callable(obj.min_side):
        raise TypeError("distance and min_side must be callables")
    if obj.config_type is not None and not dataclasses.is_dataclass(obj.config_type):
        raise TypeError("config_type must be a dataclass (or None)")
    for flag in ("lower_is_better", "symmetric"):
        if not isinstance(getattr(obj, flag), bool):
            raise TypeError(f"{flag} must be True or False")
    if not isinstance(obj.version, str):
        raise TypeError("version must be a string")
    return obj
