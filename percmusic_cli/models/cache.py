"""The user-level cache of autoencoders trained on noise, shared by every store.

Training on uniform noise does not depend on any dataset, so a model trained once (same
full training and model configuration, same seed: the same model id) is reused by every
store instead of being retrained. The cache lives in `$PERCMUSIC_MODEL_CACHE`, else
`$XDG_CACHE_HOME/percmusic/models`, else `~/.cache/percmusic/models`; one folder per model
id holds a copy of the final checkpoint folder and `cache.json`, which records the
configuration and the sha256 of every file. An entry is used only when every file matches;
a damaged or mismatched entry is ignored (and replaced by the next publish).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from percmusic_cli.hashing import file_digest

ENV = "PERCMUSIC_MODEL_CACHE"
MANIFEST = "cache.json"
FORMAT = "percmusic-model-cache"


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
    entry = cache_root() / model_id
    try:
        doc = json.loads((entry / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        return None
    same = (
        doc.get("model_id") == model_id
        and doc.get("train_config") == _plain(train_config)
        and doc.get("model_config") == _plain(model_config)
    )
    folder = entry / str(doc.get("checkpoint", ""))
    files = doc.get("files")
    if not same or not isinstance(files, dict) or not files or not folder.is_dir():
        return None
    try:
        if any(file_digest(folder / name) != digest for name, digest in files.items()):
            return None
    except OSError:
        return None
    return folder


def publish(
    model_id: str, checkpoint: Path, train_config: dict[str, Any], model_config: dict[str, Any]
) -> Path:
    """Copy a finished checkpoint folder into the cache (atomically: a temporary folder
    renamed into place); returns the entry. An intact entry is left as it is."""
    root = cache_root()
    entry = root / model_id
    if fetch(model_id, train_config, model_config) is not None:
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
