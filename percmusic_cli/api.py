"""The Python facade: every CLI command and dashboard action is one call here.

Each writing call takes the store's writer lock for its duration (`wait_s` to wait for
another writer instead of failing fast); reading calls only open read-only connections.
Heavy modules (torch, librosa) are imported inside the calls, so `percmusic --help` and
the dashboard start fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from percmusic_cli.errors import UsageError
from percmusic_cli.progress import NullReporter, Reporter
from percmusic_cli.store import Store, locate

if TYPE_CHECKING:
    from percmusic_cli.config import SpectrogramConfig
    from percmusic_cli.steps.features import FeatureSummary
    from percmusic_cli.steps.ingest import IngestSummary
    from percmusic_cli.steps.split import SplitSummary


def open_store(path: str | Path | None = None) -> Store:
    """The store at `path`, $PERCMUSIC_STORE or ./store (not created until written)."""
    return Store(locate(path))


def ingest(
    store: Store, path: Path | None = None, dataset: str | None = None, synthetic: bool = False,
    force: bool = False, reporter: Reporter | None = None, wait_s: float = 0.0,
    clips_per_class: int = 20,
) -> IngestSummary:
    from percmusic_cli.steps import ingest as step

    reporter = reporter or NullReporter()
    if path is None and not synthetic:
        raise UsageError("give a PATH to ingest, or --synthetic for the demo dataset")
    with store.writer(wait_s, "ingest"):
        if synthetic:
            path = step.prepare_synthetic(store, reporter, clips_per_class=clips_per_class)
            dataset = dataset or "synthetic"
        assert path is not None
        return step.ingest(store, path, dataset=dataset, force=force, reporter=reporter)


def split(
    store: Store, dataset: str | None = None, method: str = "auto", seed: int = 0,
    ratios: str = "0.5,0.2,0.3", file: Path | None = None, wait_s: float = 0.0,
) -> SplitSummary:
    from percmusic_cli.steps import common
    from percmusic_cli.steps.split import make_split

    with store.writer(wait_s, "filter"):
        name = common.resolve_dataset(store, dataset)
        return make_split(store, name, method, seed=seed, ratios=ratios, file=file)


def features(
    store: Store, dataset: str | None = None, config: SpectrogramConfig | None = None,
    n_frames: int | None = None, device: str = "auto", reporter: Reporter | None = None,
    wait_s: float = 0.0,
) -> FeatureSummary:
    from percmusic_cli.steps import common
    from percmusic_cli.steps.features import compute_features

    with store.writer(wait_s, "features"):
        name = common.resolve_dataset(store, dataset)
        return compute_features(store, name, config, n_frames=n_frames, device=device,
                                reporter=reporter)


def status(store: Store, with_errors: bool = False) -> dict[str, Any]:
    from percmusic_cli.store.status import store_status

    return store_status(store, with_errors=with_errors)
