"""The core never imports the UI libraries; `percmusic --help` stays light."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import duckdb

CORE = [
    "percmusic_cli.api", "percmusic_cli.config", "percmusic_cli.audio",
    "percmusic_cli.datasets.folder", "percmusic_cli.datasets.gtzan",
    "percmusic_cli.datasets.synthetic", "percmusic_cli.metrics",
    "percmusic_cli.metrics.pairwise", "percmusic_cli.models.autoencoder",
    "percmusic_cli.models.checkpoint", "percmusic_cli.experiments.knn",
    "percmusic_cli.experiments.logreg", "percmusic_cli.experiments.train",
    "percmusic_cli.experiments.encode", "percmusic_cli.steps.ingest",
    "percmusic_cli.steps.features", "percmusic_cli.steps.distances",
    "percmusic_cli.steps.knn", "percmusic_cli.steps.classify",
    "percmusic_cli.steps.reproduce", "percmusic_cli.store",
    "percmusic_cli.steps.figures", "percmusic_cli.experiments.separation",
]  # fmt: skip
UI = ("typer", "rich", "textual", "plotext", "textual_plotext", "matplotlib")


def _loaded_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys\nprint(' '.join(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(out.stdout.split())


def test_core_imports_no_ui_library() -> None:
    loaded = _loaded_after("\n".join(f"import {m}" for m in CORE))
    assert not {m for m in loaded if m.split(".")[0] in UI}


def test_cli_startup_does_not_import_torch_or_librosa() -> None:
    loaded = _loaded_after("import percmusic_cli.cli.app")
    heavy = ("torch", "librosa", "sklearn", "numba", "matplotlib")
    assert not {m for m in loaded if m.split(".")[0] in heavy}


def _imports_of(path: Path) -> set[str]:
    """Every module a file imports (also inside functions and TYPE_CHECKING blocks)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return found


def test_cli_and_tui_reach_the_core_only_through_api_config_and_errors() -> None:
    package = Path(__file__).resolve().parents[2] / "percmusic_cli"
    allowed = ("api", "config", "errors", "cli", "tui", "render")
    bad = []
    for path in [*package.joinpath("cli").rglob("*.py"), *package.joinpath("tui").rglob("*.py")]:
        for name in _imports_of(path):
            parts = name.split(".")
            inner = parts[1] if parts[0] == "percmusic_cli" and len(parts) > 1 else None
            if inner is not None and inner not in (*allowed, "__version__"):
                bad.append(f"{path.relative_to(package)}: {name}")
    assert not bad, bad


def test_metric_names_are_found_without_loading_any_metric() -> None:
    loaded = _loaded_after(
        "from percmusic_cli.metrics import registry\n"
        "from percmusic_cli.config import DistanceConfig\n"
        "assert 'ssim' in registry.names()\n"
        "DistanceConfig(metric='ssim')"
    )
    assert not {m for m in loaded if m.split(".")[0] in ("torch", "numba")}
    assert "percmusic_cli.metrics.mse" not in loaded


def test_builtin_metric_specs_load_without_torch_or_numba() -> None:
    """`percmusic metrics` describes every built-in: their specs load, their math does not."""
    loaded = _loaded_after(
        "from percmusic_cli.metrics import registry\n"
        "rows = registry.describe()\n"
        "assert {'mse', 'msssim', 'nlpd', 'ssim'} <= {r['name'] for r in rows}\n"
        "assert not any(r['problem'] for r in rows), rows"
    )
    assert "percmusic_cli.metrics.nlpd" in loaded
    assert not {m for m in loaded if m.split(".")[0] in ("torch", "numba")}


def test_knn_on_stored_distances_loads_no_torch_and_records_their_device(tmp_path: Path) -> None:
    """A knn run on distances already in the store: no torch import (most of the command's
    time), and its device is where those distances were computed, not this machine's."""
    from fixture_store import build_store

    store = build_store(tmp_path / "store")
    with duckdb.connect(str(store.root / "percmusic.duckdb")) as con:
        con.execute("UPDATE distance_sets SET device = 'cuda'")
    code = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('torch loaded:', 'torch' in sys.modules))\n"
        "from percmusic_cli.cli.app import main\n"
        "sys.argv = ['percmusic', '--store', sys.argv[1], 'knn', '--metric', 'mse,nlpd',"
        " '--k-max', '3', '--json']\n"
        "main()"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(store.root)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.rstrip().endswith("torch loaded: False"), done.stdout[-300:]
    with duckdb.connect(str(store.root / "percmusic.duckdb"), read_only=True) as con:
        new = con.execute(
            "SELECT name, device FROM runs WHERE kind = 'knn' AND config LIKE '%\"k_max\": 3%'"
        ).fetchall()
    assert sorted(new) == [("mse", "cuda"), ("nlpd", "cuda")]
