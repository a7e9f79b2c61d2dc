"""The Python facade: every CLI command and dashboard action is one call here.

Each writing call takes the store's writer lock for its duration (`wait_s` to wait for
another writer instead of failing fast); reading calls only open read-only connections.
Heavy modules (torch, librosa) are imported inside the calls, so `percmusic --help` and
the dashboard start fast.

Every call takes a `Session` (store, reporter, memory budget, executor; see
`api.open_session`) or a bare `Store`, which runs in a default session: local executor,
null reporter, 2 GB budget. A `reporter=` argument overrides the session's reporter for
that call; what it records as kept still lands in the session (`Session.last_kept`).
This module holds no logic: each call checks nothing itself and calls one step.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from percmusic_cli import metric_names as _metric_names
from percmusic_cli.execution import Session as Session
from percmusic_cli.execution import as_session
from percmusic_cli.progress import Reporter
from percmusic_cli.store import Store as Store  # the CLI and the TUI take the type from here
from percmusic_cli.store import locate

if TYPE_CHECKING:
    from percmusic_cli.config import (
        ClassifyConfig,
        DistanceConfig,
        KnnConfig,
        ModelConfig,
        SpectrogramConfig,
        TrainConfig,
    )
    from percmusic_cli.experiments.report import ClassifierResult as ClassifierResult
    from percmusic_cli.experiments.report import ClassScore as ClassScore
    from percmusic_cli.steps.features import FeatureSummary
    from percmusic_cli.steps.ingest import IngestSummary as IngestSummary
    from percmusic_cli.steps.split import SplitSummary as SplitSummary
    from percmusic_cli.steps.views import SplitView
    from percmusic_cli.store.remove import Removal


def _store(session: Session | Store) -> Store:
    return session.store if isinstance(session, Session) else session


def _view(session: Session | Store, dataset: str | None) -> SplitView:
    """The named (or only) dataset's active feature set cut by its active split."""
    from percmusic_cli.steps.views import dataset_view

    return dataset_view(_store(session), dataset)


def metric_names() -> tuple[str, ...]:
    """Registered metric names (built-ins, then plugins), found without loading any."""
    return _metric_names.names()


def metrics() -> list[dict[str, Any]]:
    """The registered metrics: name, origin (built-in or package ...), label, direction,
    fast_pairwise, study, and `problem` (why a broken plugin cannot be used, else None)."""
    from percmusic_cli.metrics import registry

    return registry.describe()


def metric_labels() -> dict[str, str]:
    """Display label per usable metric, in registry order."""
    from percmusic_cli.metrics import registry

    return {s.name: s.label for s in registry.specs()}


def run_kinds() -> tuple[str, ...]:
    """The kinds of stored runs (`results --kind`): the registered classifiers' names."""
    from percmusic_cli.classifiers import registry

    return registry.names()


def classifiers() -> list[dict[str, Any]]:
    """The registered classifiers: name (the run kind), origin, label, param (the setting
    it selects), inputs, description, and `problem` (why a broken plugin cannot be used)."""
    from percmusic_cli.classifiers import registry

    return registry.describe()


def classifier_labels() -> dict[str, str]:
    """Column label per run kind ("knn" -> "KNN"), in registry order."""
    from percmusic_cli.classifiers import registry

    return {s.name: s.label for s in registry.specs()}


def classifier_params() -> dict[str, str]:
    """The setting each run kind selects ("knn" -> "k", "latent" -> "C")."""
    from percmusic_cli.classifiers import registry

    return {s.name: s.param for s in registry.specs()}


def split_methods() -> tuple[str, ...]:
    """The names `filter --method` accepts."""
    from percmusic_cli.steps.split import METHODS

    return METHODS


def split_min_per_part() -> int:
    """Tracks per label and part that `filter` (auto) needs to take the fault-filtered split."""
    from percmusic_cli.steps.split import MIN_PER_PART

    return MIN_PER_PART


def classifier_result(run: dict[str, Any]) -> ClassifierResult:
    """The result summary of a stored run (`run_detail`), without its predictions (they are
    kept in their own table)."""
    from percmusic_cli.experiments.report import ClassifierResult

    return ClassifierResult.from_dict({**run["result"], "predictions": []})


def open_store(path: str | Path | None = None, create: bool = True) -> Store:
    """The store at `path`, $PERCMUSIC_STORE or ./store (not created until written; with
    `create=False` never created, and a missing folder is "no store at PATH")."""
    return Store(locate(path), create=create)


def connect(store: Store) -> Any:
    """A read-only DuckDB connection to the store's database for your own SQL (close it
    when done). Opened with the configuration the API's own reads use, so API calls that
    read keep working while it is open; one that writes asks you to close it first."""
    from percmusic_cli.errors import DataError

    if not store.exists():
        raise DataError(f"no store at {store.root}")
    return store.read_connection()


def session(
    store: Store | str | Path | None = None,
    reporter: Reporter | None = None,
    scheduler: str | None = "local",
    memory_budget: str | int | None = None,
    workers: int | None = None,
    wait_workers: float = 60.0,
) -> Session:
    """A session over `store` (a Store or a path; None: $PERCMUSIC_STORE or ./store):
    tasks on `scheduler` (`local`, `dask`: a LocalCluster of one-thread worker processes,
    `slurm`: a dask-jobqueue SLURMCluster, `tcp://HOST:PORT` or a scheduler file), dense
    distance blocks held up to `memory_budget` ("2GB", "500MB", bytes; None: 2 GB) before
    KNN streams a per-row top-k. A bad value is a usage error naming it; nothing starts
    until a step needs workers (`wait_workers` seconds at most). Close it when done."""
    from percmusic_cli.execution.build import build_session

    opened = store if isinstance(store, Store) else open_store(store)
    return build_session(opened, reporter, scheduler, memory_budget, workers, wait_workers)


open_session = session


def ingest(
    session: Session | Store,
    path: Path | None = None,
    dataset: str | None = None,
    synthetic: bool = False,
    force: bool = False,
    reporter: Reporter | None = None,
    wait_s: float = 0.0,
    clips_per_class: int = 20,
    archive_max_mb: int | None = None,
    archive_max_ratio: float | None = None,
    manifest: Path | None = None,
    label_column: str = "label",
    subset: str | None = None,
) -> IngestSummary:
    """Ingest a folder or a tar archive; an archive may expand to at most
    `archive_max_mb` MB and `archive_max_ratio` times its compressed size."""
    from percmusic_cli.config import check_dataset_name
    from percmusic_cli.steps import ingest as step
    from percmusic_cli.steps.ingest_options import archive_limits, check_sources

    s = as_session(session, reporter)
    limits = archive_limits(archive_max_mb, archive_max_ratio)
    check_sources(path, synthetic, manifest, clips_per_class)
    source = step.SourceOptions(manifest=manifest, label_column=label_column, subset=subset)
    if dataset is not None:
        check_dataset_name(dataset)  # before the store or sources/ are touched
    with s.store.writer(wait_s, "ingest"):
        if synthetic:
            path = step.prepare_synthetic(s.store, s.reporter, clips_per_class=clips_per_class)
            dataset = dataset or "synthetic"
        return step.ingest(
            s.store,
            path,
            dataset=dataset,
            force=force,
            reporter=s.reporter,
            source=source,
            limits=limits,
        )


def split(
    session: Session | Store,
    dataset: str | None = None,
    method: str = "auto",
    seed: int = 0,
    ratios: str = "0.5,0.2,0.3",
    file: Path | None = None,
    wait_s: float = 0.0,
) -> SplitSummary:
    from percmusic_cli.steps import common
    from percmusic_cli.steps.split import check_options, make_split

    check_options(method, seed, ratios)  # a bad option is a usage error, whatever the store
    store = _store(session)
    with store.writer(wait_s, "filter"):
        name = common.resolve_dataset(store, dataset)
        return make_split(store, name, method, seed=seed, ratios=ratios, file=file)


def features(
    session: Session | Store,
    dataset: str | None = None,
    config: SpectrogramConfig | None = None,
    n_frames: int | None = None,
    device: str = "auto",
    reporter: Reporter | None = None,
    wait_s: float = 0.0,
) -> FeatureSummary:
    from percmusic_cli.config import check_device, check_frames
    from percmusic_cli.steps import common
    from percmusic_cli.steps.features import compute_features

    check_device(device)  # options before the store: a usage error, whatever the store holds
    if n_frames is not None:
        check_frames(n_frames)
    s = as_session(session, reporter)
    with s.store.writer(wait_s, "features"):
        name = common.resolve_dataset(s.store, dataset)
        return compute_features(
            s.store, name, config, n_frames=n_frames, device=device, reporter=s.reporter
        )


def status(session: Session | Store, with_errors: bool = False) -> dict[str, Any]:
    from percmusic_cli.store.status import store_status

    return store_status(_store(session), with_errors=with_errors)


def distances(
    session: Session | Store,
    dataset: str | None = None,
    metric: str = "all",
    pairs: str = "split",
    config: DistanceConfig | None = None,
    reporter: Reporter | None = None,
    wait_s: float = 0.0,
) -> list[dict[str, Any]]:
    """Compute (or reuse) the distance blocks the split needs, or all x all."""
    from percmusic_cli.config import DistanceConfig
    from percmusic_cli.steps.distances import compute_distances, metric_list

    metrics = metric_list(metric)
    s = as_session(session, reporter)
    with s.store.writer(wait_s, "distances"):
        view = _view(s, dataset)
        return compute_distances(s, view, metrics, pairs, config or DistanceConfig())


def distance_stats(
    session: Session | Store,
    dataset: str | None = None,
    metric: str = "all",
    config: DistanceConfig | None = None,
    reporter: Reporter | None = None,
    wait_s: float = 0.0,
) -> list[dict[str, Any]]:
    """Within-genre and overall distance distributions per metric (the study's Fig. 1)."""
    from percmusic_cli.config import DistanceConfig
    from percmusic_cli.steps.distances import distance_stats as step
    from percmusic_cli.steps.distances import metric_list

    metrics = metric_list(metric)
    s = as_session(session, reporter)
    with s.store.writer(wait_s, "distances stats"):
        view = _view(s, dataset)
        return step(s, view, metrics, config or DistanceConfig())


def stored_distance_stats(
    session: Session | Store, metric: str | None = None
) -> list[dict[str, Any]]:
    from percmusic_cli.store import distances as sd

    with _store(session).connect(read_only=True) as con:
        return sd.load_stats(con, metric)


def knn(
    session: Session | Store,
    dataset: str | None = None,
    metric: str = "all",
    config: KnnConfig | None = None,
    distance: DistanceConfig | None = None,
    reporter: Reporter | None = None,
    force: bool = False,
    wait_s: float = 0.0,
    allow_degenerate: bool = False,
    hubness: str = "none",
) -> list[dict[str, Any]]:
    """Experiment 1: KNN with each metric as the distance; one stored run per metric;
    `hubness` none, mp, mp-gauss or ls rescales the stored distances first."""
    from percmusic_cli.config import DistanceConfig, KnnConfig
    from percmusic_cli.steps.distances import metric_list
    from percmusic_cli.steps.knn import check_hubness, run_knn
    from percmusic_cli.steps.views import usable_view

    check_hubness(hubness)  # before the store is read
    metrics = metric_list(metric)
    s = as_session(session, reporter)
    with s.store.writer(wait_s, "knn"):
        view = usable_view(s.store, dataset, allow_degenerate, s.reporter)
        return run_knn(
            s,
            view,
            metrics,
            config or KnnConfig(),
            distance or DistanceConfig(),
            force=force,
            hubness=hubness,
        )


def results(
    session: Session | Store,
    kind: str | None = None,
    name: str | None = None,
    dataset: str | None = None,
    split: str | None = None,
) -> list[dict[str, Any]]:
    """One row per stored run with its headline numbers. An unknown `kind`, `name` (metric,
    loss or control), `dataset` or `split` is a usage error listing the valid values, so a
    typo never looks like an empty store."""
    from percmusic_cli.steps.listing import list_results

    return list_results(_store(session), kind=kind, name=name, dataset=dataset, split=split)


def run_detail(session: Session | Store, run_id: str) -> dict[str, Any]:
    """A run with its config, provenance, full result and predictions."""
    from percmusic_cli.steps.predictions import load_run

    return load_run(_store(session), run_id)


def train(
    session: Session | Store,
    config: TrainConfig,
    model: ModelConfig | None = None,
    dataset: str | None = None,
    reporter: Reporter | None = None,
    wait_s: float = 0.0,
) -> dict[str, Any]:
    """Train (or resume, or reuse) an autoencoder; returns its models-table row."""
    from percmusic_cli.config import ModelConfig
    from percmusic_cli.steps.train import check_losses, train_model

    check_losses([config])
    s = as_session(session, reporter)
    with s.store.writer(wait_s, f"train --loss {config.loss}"):
        view = None
        if config.data == "spectrograms":
            view = _view(s, dataset)
        return train_model(s, config, model or ModelConfig(), view)


def train_many(
    session: Session | Store,
    configs: list[TrainConfig],
    model: ModelConfig | None = None,
    dataset: str | None = None,
    reporter: Reporter | None = None,
    wait_s: float = 0.0,
) -> list[dict[str, Any]]:
    """Several autoencoders (one per config, e.g. per loss); with a Dask scheduler each
    training run is its own task on the cluster. Models-table rows in the configs' order."""
    from percmusic_cli.config import ModelConfig
    from percmusic_cli.steps.train import check_losses, train_models

    check_losses(configs)
    losses = ",".join(c.loss for c in configs)
    s = as_session(session, reporter)
    with s.store.writer(wait_s, f"train --loss {losses}"):
        view = None
        if any(c.data == "spectrograms" for c in configs):
            view = _view(s, dataset)
        return train_models(s, configs, model or ModelConfig(), view)


def classify(
    session: Session | Store,
    model: str | None,
    config: ClassifyConfig | None = None,
    dataset: str | None = None,
    controls: bool = True,
    reporter: Reporter | None = None,
    force: bool = False,
    wait_s: float = 0.0,
    allow_degenerate: bool = False,
) -> list[dict[str, Any]]:
    """Experiment 2: latents of `model` to logistic regression, plus the controls."""
    from percmusic_cli.config import ClassifyConfig
    from percmusic_cli.steps.classify import check_options, run_classify
    from percmusic_cli.steps.views import usable_view

    check_options(model, controls)
    s = as_session(session, reporter)
    with s.store.writer(wait_s, "classify"):
        view = usable_view(s.store, dataset, allow_degenerate, s.reporter)
        return run_classify(
            s.store, view, model, config or ClassifyConfig(), controls, s.reporter, force
        )


def remove(
    session: Session | Store,
    ids: list[str],
    confirm: Callable[[Removal], bool] | None = None,
    wait_s: float = 0.0,
) -> dict[str, Any]:
    """Remove runs and models (ids or unambiguous prefixes) with their latent arrays and
    checkpoints; `confirm` sees what would go and may refuse. Crash-safe: see steps.remove."""
    from percmusic_cli.steps.remove import check_request
    from percmusic_cli.steps.remove import remove as step

    store = _store(session)
    check_request(store, ids)
    with store.writer(wait_s, "rm"):
        return step(store, ids, confirm)


def models(session: Session | Store) -> list[dict[str, Any]]:
    """Every model; one still marked 'training' while no writer holds the store was
    stopped, so it shows as 'interrupted' (what `check --repair` records)."""
    from percmusic_cli.steps.listing import list_models

    return list_models(_store(session))


def loss_history(session: Session | Store, model_id: str) -> list[tuple[int, float]]:
    from percmusic_cli.store import models as sm

    with _store(session).connect(read_only=True) as con:
        return sm.history(con, model_id)


def reproduce(
    session: Session | Store,
    dataset: str | None = None,
    preset: str = "default",
    device: str = "auto",
    reporter: Reporter | None = None,
    wait_s: float = 0.0,
    seed: int = 0,
    seeds: int = 1,
    folds: int = 1,
    allow_degenerate: bool = False,
    metrics: list[str] | None = None,
    resamples: int | None = None,
    hubness: list[str] | None = None,
) -> dict[str, Any]:
    """The study's table: KNN per metric beside autoencoder latents per loss, and controls,
    repeated over `seeds` seeds and `folds` folds, then the study's claims as tested rows.
    Computes features (default parameters) and an auto split first when there are none."""
    from percmusic_cli.config import preset as merge_preset
    from percmusic_cli.steps import common
    from percmusic_cli.steps.reproduce import ensure_inputs, study_metrics
    from percmusic_cli.steps.study import check_options, study
    from percmusic_cli.steps.views import usable_view

    merge_preset(preset, device=device, seed=seed)  # options before the store is read
    study_metrics(metrics)
    check_options(seeds, folds, resamples, hubness or ())
    s = as_session(session, reporter)
    with s.store.writer(wait_s, "reproduce"):
        ensure_inputs(s.store, common.resolve_dataset(s.store, dataset), device, s.reporter)
        # Folds make their own stratified parts: the stored split's balance does not matter,
        # and its warnings would describe parts the folds do not use.
        view = usable_view(
            s.store, dataset, allow_degenerate or folds > 1, s.reporter if folds == 1 else None
        )
        return study(
            s,
            view,
            preset,
            device,
            seed=seed,
            seeds=seeds,
            folds=folds,
            metrics=metrics,
            resamples=resamples,
            hubness=hubness or (),
        )


def compare(
    session: Session | Store, run_ids: list[str], n_boot: int = 1000, seed: int = 0
) -> dict[str, Any]:
    """Paired differences between runs on the same test tracks: weighted F1 by paired
    bootstrap, accuracy by McNemar's exact test, Holm-corrected over the pairs."""
    from percmusic_cli.steps.compare import compare_runs

    return compare_runs(_store(session), run_ids, n_boot=n_boot, seed=seed)


def demo(
    session: Session | Store,
    reporter: Reporter | None = None,
    device: str = "auto",
    wait_s: float = 0.0,
    clips_per_class: int = 20,
) -> dict[str, Any]:
    """The study (`reproduce`) on the embedded synthetic dataset, one seed and one fold,
    with the quick preset: its table and claims, stored for `results` and the dashboard."""
    from percmusic_cli.steps.demo import check_options
    from percmusic_cli.steps.demo import demo as step

    check_options(device, clips_per_class)
    s = as_session(session, reporter)
    with s.store.writer(wait_s, "demo"):
        return step(s, device=device, clips_per_class=clips_per_class)


def check(
    session: Session | Store, repair: bool = False, wait_s: float = 0.0, sources: bool = False
) -> dict[str, Any]:
    """Verify every array and checkpoint the store records; `repair` removes orphans and
    temporary files and marks broken derived artefacts for recomputation; `sources` hashes
    every source audio file again."""
    from percmusic_cli.steps.check import check_store

    store = _store(session)
    if not repair:
        return check_store(store, repair=False, sources=sources)
    with store.writer(wait_s, "check --repair"):
        return check_store(store, repair=True, sources=sources)


# --- dashboard reads ---


def latest_study(session: Session | Store) -> dict[str, Any] | None:
    """The last `reproduce` summary with its claims table, or None."""
    from percmusic_cli.steps.listing import latest_study as read

    return read(_store(session))


def datasets(session: Session | Store) -> list[str]:
    from percmusic_cli.steps.listing import dataset_names

    return dataset_names(_store(session))


def browse_tracks(session: Session | Store, dataset: str | None = None) -> list[dict[str, Any]]:
    """Every track with its label, part of the active split and decode status."""
    from percmusic_cli.steps.listing import track_rows

    return track_rows(_store(session), dataset)


def track_image(session: Session | Store, dataset: str, track_id: str) -> Any:
    """The track's log-mel image (numpy, n_mels x n_frames) from the latest features, or None."""
    from percmusic_cli.steps import browse

    return browse.track_image(_store(session), dataset, track_id)


def nearest_neighbours(
    session: Session | Store, dataset: str, track_id: str, n: int = 5
) -> dict[str, list[dict[str, Any]]]:
    """Per metric: the track's n nearest tracks in the stored distance matrices."""
    from percmusic_cli.steps import browse

    return browse.nearest_neighbours(_store(session), dataset, track_id, n)


def distance_stats_by_metric(
    session: Session | Store, dataset: str
) -> dict[str, list[dict[str, Any]]]:
    """Per metric: the Fig. 1 statistics (groups, quantiles, densities) that
    `percmusic distances stats` stored for the dataset's active split; a metric without
    them is absent."""
    from percmusic_cli.steps import browse

    return browse.distance_stats(_store(session), dataset)


def stored_ids(kind: str, store: str | Path | None = None) -> list[str]:
    """Run ids ("runs") or model ids ("models") for shell completion; fast, never raises."""
    from percmusic_cli.store.ids import stored_ids as ids

    return ids(kind, store)


def figure_data(
    session: Session | Store, runs: list[str] | None = None, dataset: str | None = None
) -> list[Any]:
    """The data of the study's figures (steps.figures.FigureData) from stored results:
    `runs` (ids or unique prefixes) or every run of the dataset."""
    from percmusic_cli.errors import DataError
    from percmusic_cli.steps.figures import figure_data as step

    store = _store(session)
    if not store.exists():
        raise DataError(f"no store at {store.root}: nothing to draw")
    return step(store, runs or (), dataset)
