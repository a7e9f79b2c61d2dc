"""The Python facade: every CLI command and dashboard action is one call here.

Each writing call takes the store's writer lock for its duration (`wait_s` to wait for
another writer instead of failing fast); reading calls only open read-only connections.
Heavy modules (torch, librosa) are imported inside the calls, so `percmusic --help` and
the dashboard start fast.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from percmusic_cli import metric_names as _metric_names
from percmusic_cli.errors import UsageError
from percmusic_cli.progress import NullReporter, Reporter
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


def _view(store: Store, dataset: str | None) -> SplitView:
    """The named (or only) dataset's active feature set cut by its active split."""
    from percmusic_cli.steps import common
    from percmusic_cli.steps.views import split_view

    return split_view(store, common.resolve_dataset(store, dataset))


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


def _usable_view(
    store: Store, dataset: str | None, allow_degenerate: bool, reporter: Reporter | None
) -> SplitView:
    """`_view`, refused when a test label has no training tracks (unless allowed), with a
    warning on the reporter when the test part is thin."""
    from percmusic_cli.steps.views import check_usable

    view = _view(store, dataset)
    for line in check_usable(view, allow_degenerate):
        (reporter or NullReporter()).log(line)
    return view


def last_kept() -> str | None:
    """What the running command has made durable so far (for the line an interrupt prints)."""
    from percmusic_cli.progress import last_kept as kept

    return kept()


def forget_kept() -> None:
    """Start a command with nothing recorded as kept."""
    from percmusic_cli.progress import forget_kept as forget

    forget()


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


def use_scheduler(spec: str | None = "local", workers: int | None = None) -> str:
    """Run distance tiles and training runs on `local` (default), `dask` (a LocalCluster of
    one-thread worker processes) or an existing Dask cluster (`tcp://HOST:PORT` or a
    scheduler file), for the rest of this process. Returns the scheduler's description."""
    import dataclasses

    from percmusic_cli.steps import scheduler

    parsed = scheduler.parse(spec)
    if workers is not None:
        parsed = dataclasses.replace(parsed, workers=workers)
    scheduler.use(parsed)
    return parsed.describe()


def use_memory_budget(size: str | int | None = None) -> int:
    """Bytes of dense distance blocks a step may hold before it streams instead (KNN takes a
    per-row top-k); a size such as "2GB" or "500MB", None for the 2 GB default."""
    from percmusic_cli.steps import memory

    nbytes = (
        memory.DEFAULT
        if size is None
        else (size if isinstance(size, int) else memory.parse_size(size))
    )
    memory.use(nbytes)
    return nbytes


def ingest(
    store: Store,
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
    from percmusic_cli.datasets.archive import MB, Limits
    from percmusic_cli.steps import ingest as step

    reporter = reporter or NullReporter()
    limits = Limits()
    if archive_max_mb is not None:
        if archive_max_mb < 1:
            raise UsageError(f"--archive-max-mb must be at least 1, not {archive_max_mb}")
        limits = dataclasses.replace(limits, max_total_bytes=archive_max_mb * MB)
    if archive_max_ratio is not None:
        if not 1.0 <= archive_max_ratio < float("inf"):
            raise UsageError(f"--archive-max-ratio must be a number >= 1, not {archive_max_ratio}")
        limits = dataclasses.replace(limits, max_ratio=archive_max_ratio)
    if path is None and not synthetic and manifest is None:
        raise UsageError(
            "give a PATH to ingest, --manifest FILE, or --synthetic for the demo dataset"
        )
    if synthetic and manifest is not None:
        raise UsageError("give either --synthetic or --manifest FILE, not both")
    source = step.SourceOptions(manifest=manifest, label_column=label_column, subset=subset)
    if path is not None and synthetic:
        raise UsageError(f"--synthetic makes its own files: drop the PATH {str(path)!r}")
    from percmusic_cli.config import MAX_CLIPS, check_dataset_name, check_int

    check_int("--clips-per-class", clips_per_class, 2, MAX_CLIPS)
    if dataset is not None:
        check_dataset_name(dataset)  # before the store or sources/ are touched
    with store.writer(wait_s, "ingest"):
        if synthetic:
            path = step.prepare_synthetic(store, reporter, clips_per_class=clips_per_class)
            dataset = dataset or "synthetic"
        return step.ingest(
            store,
            path,
            dataset=dataset,
            force=force,
            reporter=reporter,
            source=source,
            limits=limits,
        )


def split(
    store: Store,
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
    with store.writer(wait_s, "filter"):
        name = common.resolve_dataset(store, dataset)
        return make_split(store, name, method, seed=seed, ratios=ratios, file=file)


def features(
    store: Store,
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
    with store.writer(wait_s, "features"):
        name = common.resolve_dataset(store, dataset)
        return compute_features(
            store, name, config, n_frames=n_frames, device=device, reporter=reporter
        )


def status(store: Store, with_errors: bool = False) -> dict[str, Any]:
    from percmusic_cli.store.status import store_status

    return store_status(store, with_errors=with_errors)


def distances(
    store: Store,
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
    with store.writer(wait_s, "distances"):
        view = _view(store, dataset)
        return compute_distances(store, view, metrics, pairs, config or DistanceConfig(), reporter)


def distance_stats(
    store: Store,
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
    with store.writer(wait_s, "distances stats"):
        view = _view(store, dataset)
        return step(store, view, metrics, config or DistanceConfig(), reporter)


def stored_distance_stats(store: Store, metric: str | None = None) -> list[dict[str, Any]]:
    from percmusic_cli.store import distances as sd

    with store.connect(read_only=True) as con:
        return sd.load_stats(con, metric)


def knn(
    store: Store,
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

    check_hubness(hubness)  # before the store is read
    metrics = metric_list(metric)
    with store.writer(wait_s, "knn"):
        view = _usable_view(store, dataset, allow_degenerate, reporter)
        return run_knn(
            store,
            view,
            metrics,
            config or KnnConfig(),
            distance or DistanceConfig(),
            reporter,
            force=force,
            hubness=hubness,
        )


def results(
    store: Store,
    kind: str | None = None,
    name: str | None = None,
    dataset: str | None = None,
    split: str | None = None,
) -> list[dict[str, Any]]:
    """One row per stored run with its headline numbers. An unknown `kind`, `name` (metric,
    loss or control), `dataset` or `split` is a usage error listing the valid values, so a
    typo never looks like an empty store."""
    from percmusic_cli.classifiers import registry
    from percmusic_cli.store import runs as sr
    from percmusic_cli.store import tables as t

    metric_list = metric_names()
    if kind is not None:
        registry.check_kind(kind)
    if not store.exists():
        if name is not None and name not in metric_list:
            listed = ", ".join(metric_list)
            raise UsageError(f"unknown --metric {name!r}: choose one of {listed}")
        if dataset is not None:
            raise UsageError(f"unknown --dataset {dataset!r}: choose one of none stored yet")
        return []
    with store.connect(read_only=True) as con:
        for option, value, valid in (
            ("--metric", name, dict.fromkeys([*metric_list, *sr.distinct_values(con, "name")])),
            ("--split", split, sr.distinct_values(con, "split")),
            (
                "--dataset",
                dataset,
                dict.fromkeys([*t.dataset_names(con), *sr.distinct_values(con, "dataset")]),
            ),
        ):
            if value is not None and value not in valid:
                listed = ", ".join(valid) or "none stored yet"
                raise UsageError(f"unknown {option} {value!r}: choose one of {listed}")
        return sr.list_runs(con, kind=kind, name=name, dataset=dataset, split=split)


def run_detail(store: Store, run_id: str) -> dict[str, Any]:
    """A run with its config, provenance, full result and predictions."""
    from percmusic_cli.steps.predictions import load_run

    return load_run(store, run_id)


def train(
    store: Store,
    config: TrainConfig,
    model: ModelConfig | None = None,
    dataset: str | None = None,
    reporter: Reporter | None = None,
    wait_s: float = 0.0,
) -> dict[str, Any]:
    """Train (or resume, or reuse) an autoencoder; returns its models-table row."""
    from percmusic_cli.config import ModelConfig
    from percmusic_cli.steps.train import train_model

    with store.writer(wait_s, f"train --loss {config.loss}"):
        view = None
        if config.data == "spectrograms":
            view = _view(store, dataset)
        return train_model(store, config, model or ModelConfig(), view, reporter)


def train_many(
    store: Store,
    configs: list[TrainConfig],
    model: ModelConfig | None = None,
    dataset: str | None = None,
    reporter: Reporter | None = None,
    wait_s: float = 0.0,
) -> list[dict[str, Any]]:
    """Several autoencoders (one per config, e.g. per loss); with a Dask scheduler each
    training run is its own task on the cluster. Models-table rows in the configs' order."""
    from percmusic_cli.config import ModelConfig
    from percmusic_cli.steps.train import train_models

    losses = ",".join(c.loss for c in configs)
    with store.writer(wait_s, f"train --loss {losses}"):
        view = None
        if any(c.data == "spectrograms" for c in configs):
            view = _view(store, dataset)
        return train_models(store, configs, model or ModelConfig(), view, reporter)


def classify(
    store: Store,
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
    from percmusic_cli.steps.classify import run_classify

    if model is None and not controls:
        raise UsageError("give --model, or ask for the controls")
    with store.writer(wait_s, "classify"):
        view = _usable_view(store, dataset, allow_degenerate, reporter)
        return run_classify(
            store, view, model, config or ClassifyConfig(), controls, reporter, force
        )


def remove(
    store: Store,
    ids: list[str],
    confirm: Callable[[Removal], bool] | None = None,
    wait_s: float = 0.0,
) -> dict[str, Any]:
    """Remove runs and models (ids or unambiguous prefixes) with their latent arrays and
    checkpoints; `confirm` sees what would go and may refuse. Crash-safe: see steps.remove."""
    from percmusic_cli.errors import DataError
    from percmusic_cli.steps.remove import remove as step

    if not ids:
        raise UsageError("give one or more run or model ids (see `percmusic results`)")
    if not store.exists():
        raise DataError(f"no store at {store.root}")
    with store.writer(wait_s, "rm"):
        return step(store, ids, confirm)


def models(store: Store) -> list[dict[str, Any]]:
    """Every model; one still marked 'training' while no writer holds the store was
    stopped, so it shows as 'interrupted' (what `check --repair` records)."""
    from percmusic_cli.store import check as sc
    from percmusic_cli.store import models as sm

    if not store.exists():
        return []
    with store.connect(read_only=True) as con:
        rows = sm.list_models(con)
    if any(r["status"] == "training" for r in rows) and sc.writer_holder(store.root) is None:
        for r in rows:
            if r["status"] == "training":
                r["status"] = "interrupted"
    return rows


def loss_history(store: Store, model_id: str) -> list[tuple[int, float]]:
    from percmusic_cli.store import models as sm

    with store.connect(read_only=True) as con:
        return sm.history(con, model_id)


def reproduce(
    store: Store,
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

    merge_preset(preset, device=device, seed=seed)  # options before the store is read
    study_metrics(metrics)
    check_options(seeds, folds, resamples, hubness or ())
    with store.writer(wait_s, "reproduce"):
        ensure_inputs(store, common.resolve_dataset(store, dataset), device, reporter)
        # Folds make their own stratified parts: the stored split's balance does not matter,
        # and its warnings would describe parts the folds do not use.
        view = _usable_view(
            store, dataset, allow_degenerate or folds > 1, reporter if folds == 1 else None
        )
        return study(
            store,
            view,
            preset,
            device,
            reporter,
            seed,
            seeds,
            folds,
            metrics=metrics,
            resamples=resamples,
            hubness=hubness or (),
        )


def compare(store: Store, run_ids: list[str], n_boot: int = 1000, seed: int = 0) -> dict[str, Any]:
    """Paired differences between runs on the same test tracks: weighted F1 by paired
    bootstrap, accuracy by McNemar's exact test, Holm-corrected over the pairs."""
    from percmusic_cli.steps.compare import compare_runs

    return compare_runs(store, run_ids, n_boot=n_boot, seed=seed)


def demo(
    store: Store,
    reporter: Reporter | None = None,
    device: str = "auto",
    wait_s: float = 0.0,
    clips_per_class: int = 20,
) -> dict[str, Any]:
    """Everything on the embedded synthetic dataset, end to end, with the quick preset."""
    from percmusic_cli.config import MAX_CLIPS, check_device, check_int
    from percmusic_cli.steps import ingest as ingest_step
    from percmusic_cli.steps.features import compute_features
    from percmusic_cli.steps.reproduce import reproduce as step
    from percmusic_cli.steps.split import make_split
    from percmusic_cli.steps.views import split_view

    check_device(device)
    check_int("--clips-per-class", clips_per_class, 4, MAX_CLIPS)  # 4: a random split per class
    reporter = reporter or NullReporter()
    with store.writer(wait_s, "demo"):
        root = ingest_step.prepare_synthetic(store, reporter, clips_per_class=clips_per_class)
        ingest_step.ingest(store, root, dataset="synthetic", reporter=reporter)
        make_split(store, "synthetic", "random", seed=0, ratios="0.5,0.2,0.3")
        compute_features(store, "synthetic", device=device, reporter=reporter)
        view = split_view(store, "synthetic")
        return step(store, view, preset="quick", device=device, reporter=reporter)


def check(
    store: Store, repair: bool = False, wait_s: float = 0.0, sources: bool = False
) -> dict[str, Any]:
    """Verify every array and checkpoint the store records; `repair` removes orphans and
    temporary files and marks broken derived artefacts for recomputation; `sources` hashes
    every source audio file again."""
    from percmusic_cli.steps.check import check_store

    if not repair:
        return check_store(store, repair=False, sources=sources)
    with store.writer(wait_s, "check --repair"):
        return check_store(store, repair=True, sources=sources)


# --- dashboard reads ---


def latest_study(store: Store) -> dict[str, Any] | None:
    """The last `reproduce` summary with its claims table, or None."""
    from percmusic_cli.store.studies import latest_study as read

    if not store.exists():
        return None
    with store.connect(read_only=True) as con:
        return read(con)


def datasets(store: Store) -> list[str]:
    from percmusic_cli.store import tables as t

    if not store.exists():
        return []
    with store.connect(read_only=True) as con:
        return t.dataset_names(con)


def browse_tracks(store: Store, dataset: str | None = None) -> list[dict[str, Any]]:
    """Every track with its label, part of the active split and decode status."""
    from percmusic_cli.store import browse as sb

    if not store.exists():
        return []
    with store.connect(read_only=True) as con:
        return sb.track_rows(con, dataset)


def track_image(store: Store, dataset: str, track_id: str) -> Any:
    """The track's log-mel image (numpy, n_mels x n_frames) from the latest features, or None."""
    from percmusic_cli.steps import browse

    return browse.track_image(store, dataset, track_id)


def nearest_neighbours(
    store: Store, dataset: str, track_id: str, n: int = 5
) -> dict[str, list[dict[str, Any]]]:
    """Per metric: the track's n nearest tracks in the stored distance matrices."""
    from percmusic_cli.steps import browse

    return browse.nearest_neighbours(store, dataset, track_id, n)


def distance_stats_by_metric(store: Store, dataset: str) -> dict[str, list[dict[str, Any]]]:
    """Per metric: the Fig. 1 statistics (groups, quantiles, densities) that
    `percmusic distances stats` stored for the dataset's active split; a metric without
    them is absent."""
    from percmusic_cli.steps import browse

    return browse.distance_stats(store, dataset)


def stored_ids(kind: str, store: str | Path | None = None) -> list[str]:
    """Run ids ("runs") or model ids ("models") for shell completion; fast, never raises."""
    from percmusic_cli.store.ids import stored_ids as ids

    return ids(kind, store)


def figure_data(
    store: Store, runs: list[str] | None = None, dataset: str | None = None
) -> list[Any]:
    """The data of the study's figures (steps.figures.FigureData) from stored results:
    `runs` (ids or unique prefixes) or every run of the dataset."""
    from percmusic_cli.errors import DataError
    from percmusic_cli.steps.figures import figure_data as step

    if not store.exists():
        raise DataError(f"no store at {store.root}: nothing to draw")
    return step(store, runs or (), dataset)
