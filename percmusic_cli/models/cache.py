"""The user-level cache of autoencoders trained on noise, shared by every store.

Training on uniform noise does not depend on any dataset, so a model trained once (same
full training and model configuration, same seed: the same model id) is reused by every
store instead of being retrained. The cache lives in `$PERCMUSIC_MODEL_CACHE`, else
`$XDG_CACHE_HOME/percmusic/models`, else `~/.cache/percmusic/models`; one folder per model
id holds a copy of the final checkpoint folder and `cache.json`, which records the
configuration and the sha256 of every file. An entry is used only when every file matches;
a damaged or mismatched entry is ignored (and replaced by the next publish). `cache.json`
also records the run's trivial baseline loss, so a reused model reports whether it learned
as a freshly trained one does.

Everything `cache.json` names is untrusted: the checkpoint folder and every file must be
plain names inside the entry, the listed files must be exactly the folder's regular files,
and they must include the checkpoint's required ones; `find` says why an entry is refused.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from percmusic_cli.config import check_dataset_name
from percmusic_cli.errors import UsageError
from percmusic_cli.hashing import file_digest

ENV = "PERCMUSIC_MODEL_CACHE"
MANIFEST = "cache.json"
FORMAT = "percmusic-model-cache"
# Without these a restored checkpoint cannot be loaded (models/checkpoint.py).
REQUIRED = frozenset({"meta.json", "model.safetensors"})


@dataclass(frozen=True)
class Entry:
    """A verified cache entry: its checkpoint folder and the run's trivial baseline loss
    (None for an entry written before baselines were recorded)."""

    folder: Path
    baseline_loss: float | None


def cache_root() -> Path:
    explicit = os.environ.get(ENV)
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "percmusic" / "models"


def _plain(doc: dict[str, Any]) -> Any:
    """The JSON form, so a tuple and the list it comes back as compare equal."""
    return json.loads(json.dumps(doc, sort_keys=True, default=str))


def fetch(model_id: str, train_config: dict[str, Any], model_config: dict[str, Any]) -> Path | None:
    """The cached final checkpoint folder of `model_id`, every file verified, or None."""
    entry, _ = find(model_id, train_config, model_config)
    return entry.folder if entry is not None else None


def find(
    model_id: str, train_config: dict[str, Any], model_config: dict[str, Any]
) -> tuple[Entry | None, str | None]:
    """(the verified entry, None); (None, why it is refused) for an entry that exists but
    cannot be used; (None, None) when the cache holds no entry for `model_id`."""
    if not _plain_name(model_id):
        return None, f"model id {model_id!r} is not a plain name"
    entry = cache_root() / model_id
    try:
        doc = json.loads((entry / MANIFEST).read_text())
    except FileNotFoundError:
        return None, None
    except (OSError, ValueError) as exc:
        return None, f"{MANIFEST} is unreadable ({type(exc).__name__})"
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        return None, f"{MANIFEST} is not a percmusic model-cache manifest"
    same = (
        doc.get("model_id") == model_id
        and doc.get("train_config") == _plain(train_config)
        and doc.get("model_config") == _plain(model_config)
    )
    if not same:
        return None, f"{MANIFEST} records another model or configuration"
    problem = _layout_problem(entry, doc)
    if problem is not None:
        return None, problem
    folder = entry / str(doc["checkpoint"])
    try:
        if any(file_digest(folder / name) != digest for name, digest in doc["files"].items()):
            return None, "a file's sha256 differs from the one recorded"
    except OSError as exc:
        return None, f"a file cannot be read ({exc.strerror or exc})"
    baseline = doc.get("baseline_loss")
    if isinstance(baseline, bool) or not isinstance(baseline, (int, float)) or baseline <= 0:
        baseline = None
    return Entry(folder, None if baseline is None else float(baseline)), None


def _plain_name(name: object) -> bool:
    try:
        check_dataset_name(name, "name")
    except UsageError:
        return False
    return True


def _layout_problem(entry: Path, doc: dict[str, Any]) -> str | None:
    """Why the checkpoint folder and file list in `doc` cannot be trusted, or None."""
    name, files = doc.get("checkpoint"), doc.get("files")
    if not _plain_name(name):
        return f"its checkpoint {name!r} is not a plain folder name inside the entry"
    if not isinstance(files, dict) or not all(
        _plain_name(f) and isinstance(d, str) for f, d in files.items()
    ):
        return "its file list is not a map of plain file names to sha256 digests"
    missing = sorted(REQUIRED - set(files))
    if missing:
        return f"its file list lacks {', '.join(missing)}"
    folder = entry / str(name)
    if folder.is_symlink() or not folder.is_dir():
        return f"its checkpoint folder {name} is missing or a link"
    present = {p.name for p in folder.iterdir()}
    links = sorted(p.name for p in folder.iterdir() if p.is_symlink() or not p.is_file())
    if links:
        return f"{links[0]} in its checkpoint folder is not a regular file"
    if present != set(files):
        extra = sorted(present ^ set(files))
        return f"its file list and its checkpoint folder differ ({', '.join(extra[:3])})"
    return None


def publish(
    model_id: str,
    checkpoint: Path,
    train_config: dict[str, Any],
    model_config: dict[str, Any],
    baseline_loss: float | None = None,
) -> Path:
    """Copy a finished checkpoint folder into the cache (atomically: a temporary folder
    renamed into place), with the run's trivial baseline loss; returns the entry. An intact
    entry that already records a baseline (or is given none) is left as it is."""
    root = cache_root()
    entry = root / model_id
    found, _ = find(model_id, train_config, model_config)
    if found is not None and (found.baseline_loss is not None or baseline_loss is None):
        return entry
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{model_id}-", dir=root))
    try:
        shutil.copytree(checkpoint, tmp / checkpoint.name)
        files = {p.name: file_digest(p) for p in sorted((tmp / checkpoint.name).iterdir())}
        doc = {
            "format": FORMAT,
            "model_id": model_id,
            "train_config": _plain(train_config),
            "model_config": _plain(model_config),
            "checkpoint": checkpoint.name,
            "files": files,
            "baseline_loss": baseline_loss,
        }
        (tmp / MANIFEST).write_text(json.dumps(doc, indent=1, sort_keys=True))
        if entry.exists():  # damaged or mismatched: fetch refused it above
            shutil.rmtree(entry)
        os.replace(tmp, entry)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if fetch(model_id, train_config, model_config) is None:  # not a concurrent publish
            raise
    return entry


def restore(cached: Path, run_dir: Path) -> Path:
    """Copy a cached checkpoint folder into a store's run folder (temporary name, then
    rename, so a crash leaves no half-copied checkpoint); returns the copy."""
    run_dir.mkdir(parents=True, exist_ok=True)
    target = run_dir / cached.name
    if target.exists():
        shutil.rmtree(target)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-ckpt-", dir=run_dir))
    try:
        shutil.copytree(cached, tmp, dirs_exist_ok=True)
        os.replace(tmp, target)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target
