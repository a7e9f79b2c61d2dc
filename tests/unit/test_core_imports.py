"""The core never imports the UI libraries; `percmusic --help` stays light."""

from __future__ import annotations

import subprocess
import sys

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
