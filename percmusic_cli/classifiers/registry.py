"""The classifier registry: one `ClassifierSpec` per classifier, and the only place that maps
a run kind (the `kind` column of stored runs) to its label, its selected setting, its figure
and its study arm.

A built-in classifier is one module of this package, named as the classifier, that defines
`SPEC = ClassifierSpec(...)` (found by reading the source, so helper modules are never taken
for one); an installed package adds one through the entry-point group
`percmusic.classifiers` (the entry point names a ClassifierSpec, or a function returning one).
A plugin that fails to import or gives a bad spec is reported by name with a one-line reason
(`broken()`, `describe()`); the other classifiers keep working. A stored run whose kind is
no longer registered still lists: `find` returns None and callers fall back to the kind."""

from __future__ import annotations

import dataclasses
import functools
import importlib
import importlib.util
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import EntryPoint
from typing import TYPE_CHECKING, Any

from percmusic_cli import discovery
from percmusic_cli.errors import UsageError

if TYPE_CHECKING:
    import numpy as np

    from percmusic_cli.experiments.report import ClassifierResult

ENTRY_POINT_GROUP = "percmusic.classifiers"
BUILT_IN = "built-in"
INPUTS = ("distances", "latents")
_PACKAGE = "percmusic_cli.classifiers"
_KIND = re.compile(r"^[a-z][a-z0-9_]*$")  # a run id starts with it: no dash, no space

# get("test", "train") -> distances: rows the first part's tracks, columns the second's.
DistanceLookup = Callable[[str, str], "np.ndarray"]
# fit(get, labels per part, settings, class order) -> the scored result on the test part.
DistanceFit = Callable[
    [DistanceLookup, Mapping[str, Sequence[str]], Any, "Sequence[str] | None"], "ClassifierResult"
]


@dataclass(frozen=True)
class ClassifierSpec:
    """One classifier (CONTRIBUTING.md, "Add a classifier", explains every field).

    name: the run kind, stored in `runs.kind`, first word of its run ids, `results --kind`.
    label: short column label ("KNN"). param: the setting it selects ("k", "C").
    fit: for inputs "distances", the pure classifier that the generic distance step runs;
    None for a classifier with its own command (knn, latent)."""

    name: str
    label: str
    param: str
    description: str = ""
    inputs: str = "distances"
    fit: DistanceFit | None = None
    config_type: type | None = None
    figure: str = ""
    figure_title: str = ""
    curve_figure: bool = False
    study_arm: str | None = None
    order: int = 100
    origin: str = BUILT_IN

    @property
    def figure_name(self) -> str:
        """File stem of its confusion-matrix figure."""
        return self.figure or f"fig-{self.name}-confusion"

    @property
    def figure_heading(self) -> str:
        return self.figure_title or f"{self.label}: confusion matrices (test)"

    def default_settings(self) -> Any:
        return None if self.config_type is None else self.config_type()


_specs: dict[str, ClassifierSpec] = {}
_broken: dict[str, str] = {}


@functools.cache
def builtin_modules() -> dict[str, str]:
    """Built-in classifier name -> module path."""
    return discovery.spec_modules(_PACKAGE)


@functools.cache
def plugin_entry_points() -> dict[str, EntryPoint]:
    return discovery.group_entry_points(ENTRY_POINT_GROUP)


def _load_all() -> None:
    builtins = builtin_modules()
    for name in builtins:
        if name not in _specs and name not in _broken:
            _load(name, BUILT_IN, functools.partial(_module_spec, builtins[name]))
    for name, ep in plugin_entry_points().items():
        if name in builtins:
            _broken[f"{name} (plugin)"] = (
                f"{_package(ep)} defines classifier {name!r}, a built-in name; it is ignored"
            )
        elif name not in _specs and name not in _broken:
            _load(name, _package(ep), functools.partial(_from_entry_point, ep))


def specs() -> tuple[ClassifierSpec, ...]:
    """Every usable classifier, by `order` then name (broken plugins left out)."""
    _load_all()
    return tuple(sorted(_specs.values(), key=lambda s: (s.order, s.name)))


def names() -> tuple[str, ...]:
    """Every usable classifier's name: the run kinds, in table and figure order."""
    return tuple(s.name for s in specs())


def get(name: str) -> ClassifierSpec:
    """The spec of `name`; UsageError listing the usable names, or saying why a broken
    plugin cannot be used."""
    _load_all()
    if name in _broken:
        raise UsageError(f"classifier {name!r} cannot be used: {_broken[name]}")
    if name not in _specs:
        raise UsageError(f"unknown classifier {name!r}: choose one of {', '.join(names())}")
    return _specs[name]


def check_kind(kind: str, option: str = "--kind") -> str:
    """`kind` if a usable classifier has that name, else a one-line UsageError: the usable
    names, or why the plugin of that name cannot be used."""
    _load_all()
    if kind in _broken:
        raise UsageError(f"{option} {kind!r}: {_broken[kind]}")
    if kind not in _specs:
        raise UsageError(f"unknown {option} {kind!r}: choose one of {', '.join(names())}")
    return kind


def find(kind: str) -> ClassifierSpec | None:
    """The spec of a stored run's kind, or None when no usable classifier has that name."""
    _load_all()
    return _specs.get(kind)


def label(kind: str) -> str:
    spec = find(kind)
    return spec.label if spec is not None else kind


def param_name(kind: str) -> str:
    spec = find(kind)
    return spec.param if spec is not None else "param"


def study_specs() -> tuple[ClassifierSpec, ...]:
    """The classifiers that are arms of the study, in order."""
    return tuple(s for s in specs() if s.study_arm is not None)


def broken() -> dict[str, str]:
    """Registered names that cannot be used -> a one-line reason."""
    _load_all()
    return dict(_broken)


def describe() -> list[dict[str, Any]]:
    """One row per registered name: name, origin, label, param, inputs, description, and
    `problem` (None, or why a broken one cannot be used)."""
    rows = [
        {
            "name": s.name,
            "origin": s.origin,
            "label": s.label,
            "param": s.param,
            "inputs": s.inputs,
            "description": s.description,
            "problem": None,
        }
        for s in specs()
    ]
    for name, reason in broken().items():
        rows.append(
            {
                "name": name,
                "origin": None,
                "label": None,
                "param": None,
                "inputs": None,
                "description": None,
                "problem": reason,
            }
        )
    return rows


def reset() -> None:
    """Forget loaded specs and found names (for tests that install or remove a plugin)."""
    _specs.clear()
    _broken.clear()
    builtin_modules.cache_clear()
    plugin_entry_points.cache_clear()


def _module_spec(module: str) -> object:
    obj = getattr(importlib.import_module(module), "SPEC", None)
    if obj is None:
        raise TypeError(f"module {module} defines no SPEC")
    return obj


def _from_entry_point(ep: EntryPoint) -> object:
    obj = ep.load()
    return obj() if callable(obj) and not isinstance(obj, ClassifierSpec) else obj


def _package(ep: Any) -> str:
    dist = getattr(ep, "dist", None)
    return f"package {dist.name}" if dist is not None else "package"


def _load(name: str, origin: str, make: Callable[[], object]) -> None:
    try:
        _specs[name] = dataclasses.replace(_checked(make(), name), origin=origin)
    except Exception as exc:  # any failure of third-party code: report it, keep going
        where = "built-in classifier" if origin == BUILT_IN else "classifier plugin"
        text = str(exc).strip()
        reason = text.splitlines()[0] if text else ""
        _broken[name] = f"{where} {name!r} is broken: {type(exc).__name__}" + (
            f": {reason}" if reason else ""
        )


def _checked(obj: object, name: str) -> ClassifierSpec:
    if not isinstance(obj, ClassifierSpec):
        raise TypeError(f"expected a ClassifierSpec, got {type(obj).__name__}")
    if obj.name != name:
        raise ValueError(f"spec is named {obj.name!r}, registered as {name!r}")
    if not _KIND.match(obj.name):
        raise ValueError(f"name {obj.name!r}: lower-case letters, digits and _ only")
    if not obj.label or not obj.param:
        raise ValueError("spec needs a label and a param")
    if obj.inputs not in INPUTS:
        raise ValueError(f"inputs {obj.inputs!r}: one of {', '.join(INPUTS)}")
    if obj.fit is not None and not callable(obj.fit):
        raise TypeError("fit must be a callable (or None)")
    if obj.fit is not None and obj.inputs != "distances":
        raise ValueError("only a distance classifier can have a fit (the generic step's)")
    if obj.config_type is not None and not dataclasses.is_dataclass(obj.config_type):
        raise TypeError("config_type must be a dataclass (or None)")
    return obj
