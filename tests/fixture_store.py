"""A small, fully deterministic store for the dashboard and figure tests, written through the store
modules (no audio, no torch): 4 labels x 6 tracks, a split, a feature set, all x all
distance matrices per metric, one real KNN run per metric, one trained model with its loss
history, and fixed timestamps so snapshots do not change from run to run.

The store lives at `<tmp>/store` and records relative paths, so a test that changes into
`<tmp>` and opens `Store(Path("store"))` sees the same text on every machine."""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import numpy as np

from percmusic_cli.config import DistanceConfig, KnnConfig, ModelConfig, TrainConfig
from percmusic_cli.experiments.distributions import summarise
from percmusic_cli.experiments.knn import knn_experiment
from percmusic_cli.experiments.separation import pooled_stats
from percmusic_cli.experiments.stats import distance_groups
from percmusic_cli.hashing import param_hash, plain
from percmusic_cli.metrics import registry as metric_registry
from percmusic_cli.steps.views import split_view
from percmusic_cli.store import Store
from percmusic_cli.store import arrays as a
from percmusic_cli.store import distances as sd
from percmusic_cli.store import models as sm
from percmusic_cli.store import runs as sr
from percmusic_cli.store import tables as t

LABELS = ("blues", "classical", "jazz", "rock")
PER_LABEL = 6
PARTS = ("train", "train", "train", "valid", "test", "test")
DATASET = "fixture"
MODEL_ID = "ae-mse-noise-0000beef"


def _images(rng: np.random.Generator, labels: tuple[str, ...] = LABELS) -> np.ndarray:
    """One 32 x 48 image per track: a label-specific band pattern plus noise."""
    out = []
    for i, _ in enumerate(labels):
        rows = np.linspace(0, 1, 32)[:, None]
        base = 0.5 + 0.06 * np.sin((i + 1) * 3 * rows) * np.ones((1, 48))
        for _ in range(PER_LABEL):
            gain = rng.uniform(0.5, 1.5)
            out.append(np.clip(base * gain + 0.1 * rng.standard_normal((32, 48)), 0, 1))
    return np.asarray(out, dtype=np.float32)


def _matrices(images: np.ndarray) -> dict[str, np.ndarray]:
    """MSE for real; the other two metrics as monotone reshapes of it (display only)."""
    flat = images.reshape(len(images), -1).astype(np.float64)
    mse = ((flat[:, None, :] - flat[None, :, :]) ** 2).mean(axis=2)
    return {"mse": mse, "msssim": np.sqrt(mse) * 1.5, "nlpd": np.log1p(40 * mse)}


def _write_tracks(store: Store, labels: tuple[str, ...] = LABELS) -> list[str]:
    ids = [f"{lab}/{lab}.{j:05d}" for lab in labels for j in range(PER_LABEL)]
    rows = [
        t.TrackRow(
            DATASET,
            tid,
            labels[n // PER_LABEL],
            tid + ".wav",
            "sources/" + tid + ".wav",
            None,
            None,
            3.0,
            22050,
            1,
            "ok",
            None,
        )
        for n, tid in enumerate(ids)
    ]
    rows.append(
        t.TrackRow(
            DATASET,
            f"{labels[-1]}/broken",
            labels[-1],
            f"{labels[-1]}/broken.wav",
            f"sources/{labels[-1]}/broken.wav",
            None,
            None,
            None,
            None,
            None,
            "error",
            "not a recognised audio format",
        )
    )
    with store.connect() as con:
        t.upsert_dataset(con, DATASET, "folder", "sources/fixture")
        t.write_tracks(con, rows)
        members = {tid: PARTS[j % PER_LABEL] for j, tid in enumerate(ids)}
        t.save_split(con, DATASET, "random-s0", {"method": "random"}, members)
    return ids


def _write_features(store: Store, ids: list[str], images: np.ndarray) -> str:
    key = "f" * 16
    rel = f"arrays/features-{key}.npy"
    rec = a.write_array(store.root, rel, images, kind="features")
    fs = t.FeatureSet(key, DATASET, {"n_mels": 32}, len(ids), 32, 48, rel, ids, [False] * len(ids))
    with store.connect() as con:
        t.save_feature_set(con, fs, rec)
    return key


STUDY = ("mse", "msssim", "nlpd")


def _write_distances_and_runs(store: Store, matrices: dict[str, np.ndarray]) -> None:
    view = split_view(store, DATASET)
    pos = {int(r): i for i, r in enumerate(view.rows["all"])}
    labels = {p: view.part_labels(p) for p in ("train", "valid", "test")}
    for n, metric in enumerate(STUDY):
        cfg = dataclasses.replace(DistanceConfig(), metric=metric)
        fields = metric_registry.key_fields(cfg)
        key = param_hash(fields, view.feature_hash, view.ids("all"), view.ids("all"))
        full = matrices[metric][np.ix_(view.rows["all"], view.rows["all"])]
        ds = sd.DistanceSet(
            key,
            metric,
            view.feature_hash,
            "all",
            "all",
            {"key": plain(fields), "tile": 64},
            len(full),
            len(full),
            f"arrays/dist-{metric}-{key}.npy",
        )
        sd.save(store, ds, full, "cpu", 0.1)
        all_labels = [view.labels[i] for i in view.rows["all"]]
        sd.save_stats(
            store,
            key,
            metric,
            summarise(distance_groups(full, all_labels)) + pooled_stats(full, all_labels),
        )

        def get(rows: str, cols: str, full: np.ndarray = full) -> np.ndarray:
            r = [pos[int(i)] for i in view.rows[rows]]
            c = [pos[int(i)] for i in view.rows[cols]]
            return full[np.ix_(r, c)]

        result = knn_experiment(get, labels, KnnConfig(k_max=5, n_boot=50))
        run = sr.RunRecord(
            f"knn-{metric}-{n:08d}",
            "knn",
            metric,
            DATASET,
            view.split,
            view.feature_hash,
            f"input-{metric}",
            {"k_max": 5},
            0,
            "abc1234",
            {},
            "cpu",
            0.5,
        )
        sr.save_run(store, run, result.to_dict(), view.ids("test"), view.ids("train"))


def _write_model(store: Store) -> None:
    history = [(s, 0.05 + 0.2 * float(np.exp(-s / 12))) for s in range(1, 61)]
    with store.connect() as con:
        sm.upsert_model(
            con,
            MODEL_ID,
            TrainConfig(loss="mse", steps=60),
            ModelConfig(),
            "checkpoints/" + MODEL_ID,
            60,
            "done",
            "cpu",
            12.0,
            None,
        )
        sm.save_history(con, MODEL_ID, history)
        sm.save_learning(con, MODEL_ID, 0.08, 1 / 12)  # ratio 0.96: "did not learn"


def _fix_timestamps(store: Store) -> None:
    with store.connect() as con:
        for table in ("datasets", "splits", "arrays", "feature_sets", "distance_sets", "models"):
            con.execute(f"UPDATE {table} SET created_at = TIMESTAMP '2024-05-01 12:00:00'")
        con.execute("UPDATE models SET updated_at = TIMESTAMP '2024-05-01 12:00:00'")
        con.execute(
            "UPDATE runs SET created_at = TIMESTAMP '2024-05-01 12:00:00' + "
            "to_minutes(CAST(right(run_id, 1) AS BIGINT))"
        )


class _Building(Store):
    """The store while `build_store` writes it: every `connect()`, read or write, gets the one
    connection opened first, held until the build ends, so the build's dozen units of work do
    not each open, migrate and checkpoint the database (most of a build's time)."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self._held = contextlib.ExitStack()
        self._con: duckdb.DuckDBPyConnection | None = None

    @contextlib.contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        if self._con is None:
            self._con = self._held.enter_context(super().connect())
        yield self._con

    def close(self) -> None:
        self._held.close()


def build_store(root: Path, labels: tuple[str, ...] = LABELS) -> Store:
    """The fixture store; `labels` replaces the four genres (hostile names, long names)."""
    store = _Building(root)
    with store.writer(0.0, "test fixture"), contextlib.closing(store):
        ids = _write_tracks(store, labels)
        images = _images(np.random.default_rng(0), labels)
        _write_features(store, ids, images)
        _write_distances_and_runs(store, _matrices(images))
        _write_model(store)
        _fix_timestamps(store)
    return Store(root)


class StoreCopies:
    """Fixture stores built once per label set (under `home`) and copied for each test: a
    copy takes milliseconds where a build takes a few tenths of a second. Every path inside a
    store is relative, so a copy reads exactly like a fresh build."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.built: dict[tuple[str, ...], Path] = {}

    def copy(self, root: Path, labels: tuple[str, ...] = LABELS) -> Store:
        """A store at `root` equal to `build_store(root, labels)`."""
        template = self.built.get(labels)
        if template is None:
            template = self.home / f"template-{len(self.built)}" / "store"
            build_store(template, labels)
            self.built[labels] = template
        shutil.copytree(template, root)
        return Store(root)
