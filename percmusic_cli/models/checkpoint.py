"""Self-describing, pickle-free checkpoints.

A run directory holds checkpoint folders named `ckpt-<step, 8 digits>`, each with:

- `model.safetensors`      the model's state dict;
- `optimizer.safetensors`  every tensor of the optimizer's state (`state.<param>.<name>`);
- `optimizer.json`         the optimizer's param groups and non-tensor state values;
- `extra.safetensors`      caller tensors needed for an exact resume (generator states);
- `meta.json`              model config, caller meta (train config, step, seed, loss history),
                           versions, and the sha256 of every file above. Written last.

A checkpoint is written into a hidden temporary folder and renamed into place, so a crash
mid-save leaves only a temporary folder (ignored and cleaned up later) and the previous
checkpoint intact. The newest (highest step) `ckpt-*` folder wins. Loading never unpickles:
tensors come from safetensors, everything else from JSON, and a file that does not match the
sha256 recorded in `meta.json`, or cannot be parsed, is refused with `ArrayIntegrityError`.
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import Tensor, nn

from percmusic_cli import __version__
from percmusic_cli.config import ModelConfig
from percmusic_cli.errors import ArrayIntegrityError, StoreError, UsageError
from percmusic_cli.hashing import file_digest
from percmusic_cli.models.autoencoder import Autoencoder, build_autoencoder
from percmusic_cli.store.arrays import DIR_MODE, FILE_MODE

FORMAT = "percmusic-checkpoint"
FORMAT_VERSION = 1
PREFIX = "ckpt-"
_TMP_PREFIX = ".tmp-ckpt-"
_ZIP_MAGIC = b"PK\x03\x04"  # torch.save writes a zip holding a pickle


@dataclass
class LoadedCheckpoint:
    model: Autoencoder
    optimizer_state: dict[str, Any] | None
    meta: dict[str, Any]
    extra: dict[str, Tensor] = field(default_factory=dict)
    path: Path = Path()

    @property
    def step(self) -> int:
        return int(self.meta.get("step", 0))


# ---------------------------------------------------------------- optimizer state <-> files


def _optimizer_to_files(state: dict[str, Any]) -> tuple[dict[str, Tensor], dict[str, Any]]:
    tensors: dict[str, Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for pid, entries in state["state"].items():
        for name, value in entries.items():
            if isinstance(value, Tensor):
                tensors[f"state.{pid}.{name}"] = value.detach().cpu().contiguous()
            else:
                scalars.setdefault(str(pid), {})[name] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def _optimizer_from_files(tensors: dict[str, Tensor], doc: dict[str, Any]) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        _, pid, name = key.split(".", 2)
        state.setdefault(int(pid), {})[name] = value
    for pid, entries in doc.get("scalars", {}).items():
        state.setdefault(int(pid), {}).update(entries)
    return {"state": state, "param_groups": doc["param_groups"]}


# ---------------------------------------------------------------- saving


def _json_default(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, tuple | set):
        return list(obj)
    raise TypeError(f"cannot store {type(obj).__name__} in checkpoint meta")


def _write_json(path: Path, doc: dict[str, Any]) -> None:
    path.write_text(json.dumps(doc, indent=1, default=_json_default, allow_nan=True))


def _versions() -> dict[str, str]:
    return {
        "torch": torch.__version__,
        "percmusic": __version__,
        "python": platform.python_version(),
    }


def _write_files(
    tmp: Path, model: nn.Module, optimizer: torch.optim.Optimizer | None, extra: dict[str, Tensor]
) -> dict[str, str]:
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(tmp / "model.safetensors"))
    names = ["model.safetensors"]
    if optimizer is not None:
        tensors, doc = _optimizer_to_files(optimizer.state_dict())
        save_file(tensors, str(tmp / "optimizer.safetensors"))
        _write_json(tmp / "optimizer.json", doc)
        names += ["optimizer.safetensors", "optimizer.json"]
    if extra:
        save_file(
            {k: v.detach().cpu().contiguous() for k, v in extra.items()},
            str(tmp / "extra.safetensors"),
        )
        names.append("extra.safetensors")
    return {name: file_digest(tmp / name) for name in names}


def _follow_umask(folder: Path) -> None:
    # mkdtemp makes 0700 and safetensors writes 0600: give the modes open() would, so a
    # group can share a store.
    os.chmod(folder, DIR_MODE)
    for child in folder.iterdir():
        os.chmod(child, FILE_MODE)


def save_checkpoint(
    directory: Path,
    model: nn.Module,
    optimizer: torch.optim.Optimizer | None,
    meta: dict[str, Any],
    extra: dict[str, Tensor] | None = None,
    keep: int = 1,
) -> Path:
    """Write a checkpoint for `meta["step"]` under `directory`; return its folder.

    `meta` must be JSON-serialisable (dataclasses are turned into dicts). An `Autoencoder`'s
    config is recorded as `meta["model_config"]` so `load_checkpoint` can rebuild it. Only the
    newest `keep` checkpoints are kept.
    """
    directory.mkdir(parents=True, exist_ok=True)
    step = int(meta.get("step", 0))
    tmp = Path(tempfile.mkdtemp(prefix=_TMP_PREFIX, dir=directory))
    try:
        files = _write_files(tmp, model, optimizer, extra or {})
        doc = {"format": FORMAT, "format_version": FORMAT_VERSION, **meta, "step": step}
        if isinstance(model, Autoencoder):
            doc["model_config"] = dataclasses.asdict(model.cfg)
        doc["versions"] = _versions()
        doc["files"] = files
        _write_json(tmp / "meta.json", doc)
        _follow_umask(tmp)
        final = directory / f"{PREFIX}{step:08d}"
        if final.exists():  # re-saving the same step: the new one replaces it
            shutil.rmtree(final)
        os.replace(tmp, final)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise StoreError(
            f"cannot write a checkpoint in {directory}: {exc.strerror or exc}"
        ) from exc
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _prune(directory, keep)
    return final


def checkpoints(directory: Path) -> list[Path]:
    """Complete checkpoint folders under `directory`, oldest first."""
    if not directory.is_dir():
        return []
    found = [p for p in directory.iterdir() if p.is_dir() and p.name.startswith(PREFIX)]
    return sorted(found, key=lambda p: p.name)


def latest_checkpoint(directory: Path) -> Path | None:
    """The newest checkpoint folder in a run directory, or `directory` itself if it is one."""
    if (directory / "meta.json").is_file():
        return directory
    found = checkpoints(directory)
    return found[-1] if found else None


def prune(directory: Path, keep: int = 1) -> None:
    """Keep the newest `keep` complete checkpoints; remove older ones and the temporary
    folders of interrupted saves (a kill between saving and pruning leaves both)."""
    if directory.is_dir():
        _prune(directory, keep)


def _prune(directory: Path, keep: int) -> None:
    for old in checkpoints(directory)[: -max(keep, 1)]:
        shutil.rmtree(old, ignore_errors=True)
    for tmp in directory.glob(f"{_TMP_PREFIX}*"):  # leftovers of crashed saves
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------- loading


def _refuse(path: Path, why: str) -> ArrayIntegrityError:
    return ArrayIntegrityError(f"checkpoint file {path} refused: {why}")


def _looks_pickled(head: bytes) -> bool:
    # Pickle protocols 2-5 start with PROTO (0x80) and the protocol number.
    return head.startswith(_ZIP_MAGIC) or (len(head) > 1 and head[0] == 0x80 and 2 <= head[1] <= 5)


def _check_not_pickle(path: Path) -> None:
    """For JSON files: refuse a pickle by its magic bytes (JSON never starts with them)."""
    with open(path, "rb") as fh:
        head = fh.read(4)
    if _looks_pickled(head):
        raise _refuse(path, "it looks like a pickle / torch.save file, which is never loaded")


def _check_safetensors(path: Path) -> None:
    """A safetensors file is an 8-byte header length, then a JSON header starting with '{'.

    The structure is checked before any pickle sniffing, because a header length's first
    byte may legitimately be 0x80.
    """
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(9)
    if len(head) == 9 and head[8:9] == b"{" and 8 + int.from_bytes(head[:8], "little") <= size:
        return
    if _looks_pickled(head):
        raise _refuse(path, "it looks like a pickle / torch.save file, which is never loaded")
    raise _refuse(path, "not a safetensors file")


def _read_meta(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise _refuse(path, "missing")
    _check_not_pickle(path)
    try:
        doc = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _refuse(path, f"not valid JSON ({exc})") from exc
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise _refuse(path, f"not a {FORMAT} meta file")
    if doc.get("format_version", 0) > FORMAT_VERSION:
        raise _refuse(path, f"format version {doc['format_version']} is newer than this percmusic")
    return doc


def _verify(folder: Path, name: str, meta: dict[str, Any]) -> Path:
    path = folder / name
    if not path.is_file():
        raise _refuse(path, "missing")
    if name.endswith(".safetensors"):
        _check_safetensors(path)
    else:
        _check_not_pickle(path)
    expected = meta.get("files", {}).get(name)
    if expected is not None and file_digest(path) != expected:
        raise _refuse(path, "its sha256 differs from the one recorded in meta.json")
    return path


def _read_tensors(path: Path, device: str) -> dict[str, Tensor]:
    try:
        return load_file(str(path), device=device)
    except (SafetensorError, OSError, ValueError) as exc:
        raise _refuse(path, f"not a readable safetensors file ({exc})") from exc


def _read_json(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _refuse(path, f"not valid JSON ({exc})") from exc
    return doc


def _build_model(folder: Path, meta: dict[str, Any], device: str) -> Autoencoder:
    cfg_doc = meta.get("model_config")
    if not isinstance(cfg_doc, dict):
        raise _refuse(folder / "meta.json", "it records no model_config")
    try:
        model = build_autoencoder(ModelConfig(**cfg_doc))
    except (TypeError, UsageError) as exc:  # a recorded value out of range is bad data
        raise _refuse(folder / "meta.json", f"unusable model_config ({exc})") from exc
    path = _verify(folder, "model.safetensors", meta)
    try:
        model.load_state_dict(_read_tensors(path, "cpu"), strict=True)
    except RuntimeError as exc:
        raise _refuse(path, f"weights do not fit the recorded model_config ({exc})") from exc
    return model.to(device)


def load_checkpoint(directory: Path, device: str = "cpu") -> LoadedCheckpoint:
    """Load the newest checkpoint of a run directory (or one checkpoint folder)."""
    folder = latest_checkpoint(directory)
    if folder is None:
        raise ArrayIntegrityError(f"no checkpoint found in {directory}")
    meta = _read_meta(folder / "meta.json")
    model = _build_model(folder, meta, device)
    optimizer_state = None
    if "optimizer.safetensors" in meta.get("files", {}):
        tensors = _read_tensors(_verify(folder, "optimizer.safetensors", meta), "cpu")
        doc = _read_json(_verify(folder, "optimizer.json", meta))
        optimizer_state = _optimizer_from_files(tensors, doc)
    extra: dict[str, Tensor] = {}
    if "extra.safetensors" in meta.get("files", {}):
        extra = _read_tensors(_verify(folder, "extra.safetensors", meta), "cpu")
    return LoadedCheckpoint(model, optimizer_state, meta, extra, folder)
