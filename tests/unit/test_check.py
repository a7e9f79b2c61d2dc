"""`check_store` and `percmusic check` on small stores built by hand: what each kind of
damage is reported as, what --repair does, and what it never touches (runs)."""

from __future__ import annotations

import json
import pickle
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from percmusic_cli import api
from percmusic_cli.cli.app import app
from percmusic_cli.config import ModelConfig, TrainConfig
from percmusic_cli.errors import StoreLockedError, UsageError
from percmusic_cli.steps.check import check_store
from percmusic_cli.store import Store
from percmusic_cli.store import arrays as a
from percmusic_cli.store import check as sc
from percmusic_cli.store import distances as sd
from percmusic_cli.store import models as sm
from percmusic_cli.store import tables as t
from percmusic_cli.store.lock import WriterLock

FEAT = "arrays/features-aaaa.npy"
DIST = "arrays/dist-mse-bbbb.npy"
LAT = "arrays/latents-cccc.npy"
MODEL = "ae-mse-noise-0000"
TINY = ModelConfig(hidden_channels=4, latent_channels=2, stages=2)


@dataclass
class Built:
    store: Store
    root: Path


def _kinds(report: dict, section: str = "problems") -> list[tuple[str, str]]:
    return sorted((f["kind"], f["path"]) for f in report[section])


def _count(store: Store, sql: str) -> int:
    with store.connect(read_only=True) as con:
        row = con.execute(sql).fetchone()
    assert row is not None
    return int(row[0])


def _add_model(store: Store, checkpoint: bool = True) -> None:
    from percmusic_cli.models.autoencoder import build_autoencoder
    from percmusic_cli.models.checkpoint import save_checkpoint

    rel = f"checkpoints/{MODEL}"
    if checkpoint:
        save_checkpoint(store.root / rel, build_autoencoder(TINY), None, {"step": 3})
    with store.connect() as con:
        sm.upsert_model(
            con, MODEL, TrainConfig(loss="mse", steps=3), TINY, rel, 3, "done", "cpu", 0.1, None
        )


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The store every test starts from, built once: a copy takes milliseconds where a build
    took a quarter of a second per test. Paths inside a store are relative, so a copy reads
    as a fresh build."""
    return _build(tmp_path_factory.mktemp("check-template") / "store").root


@pytest.fixture
def built(template: Path, tmp_path: Path) -> Built:
    shutil.copytree(template, tmp_path / "store")
    return Built(Store(tmp_path / "store"), tmp_path / "store")


def _build(root: Path) -> Built:
    """A store with a feature set, a distance set, a latent set and a run using them."""
    store = Store(root)
    rng = np.random.default_rng(0)
    images = rng.random((4, 8, 10)).astype(np.float32)
    rec = a.write_array(store.root, FEAT, images, kind="features")
    fs = t.FeatureSet("aaaa", "d", {}, 4, 8, 10, FEAT, ["a", "b", "c", "e"], [False] * 4)
    with store.connect() as con:
        t.save_feature_set(con, fs, rec)
    ds = sd.DistanceSet("bbbb", "mse", "aaaa", "train", "train", {}, 4, 4, DIST)
    sd.save(store, ds, rng.random((4, 4)), "cpu", 0.1)
    sm.save_latents(store, "cccc", "raw", "aaaa", "meanstd", rng.random((4, 3)))
    with store.connect() as con:
        con.execute(
            "INSERT INTO runs (run_id, kind, name, dataset, split, feature_hash, "
            "input_key, config, result) VALUES ('knn-mse-1', 'knn', 'mse', 'd', 's', "
            "'aaaa', 'k1', '{}', '{}')"
        )
        con.execute("INSERT INTO predictions VALUES ('knn-mse-1', 'a', 'x', 'x', NULL, NULL)")
    return Built(store, store.root)


def test_a_clean_store_passes_and_counts_what_it_checked(built: Built) -> None:
    report = check_store(built.store)
    assert report["ok"] and report["problems"] == [] and report["leftovers"] == []
    assert report["checked"]["arrays"] == 3
    assert report["checked"]["feature_sets"] == report["checked"]["runs"] == 1
    json.dumps(report)  # JSON-safe


def test_a_store_that_does_not_exist_is_reported_not_created(tmp_path: Path) -> None:
    report = check_store(Store(tmp_path / "none"))
    assert report["ok"] and not report["exists"]
    assert not (tmp_path / "none").exists()


def test_altered_array_is_forgotten_by_repair_but_the_run_is_kept(built: Built) -> None:
    with open(built.root / FEAT, "r+b") as fh:
        fh.seek(-4, 2)
        fh.write(b"\0\0\0\1")
    report = check_store(built.store)
    assert not report["ok"]
    assert _kinds(report) == [("array_altered", FEAT)]
    fixed = api.check(built.store, repair=True)
    assert ("recompute", FEAT) in _kinds(fixed, "repaired")
    assert not (built.root / FEAT).exists()
    assert _count(built.store, "SELECT count(*) FROM feature_sets") == 0
    assert _count(built.store, "SELECT count(*) FROM feature_tracks") == 0
    # The user's run and predictions stay; the run is reported as missing its inputs.
    assert _count(built.store, "SELECT count(*) FROM runs") == 1
    assert _count(built.store, "SELECT count(*) FROM predictions") == 1
    assert _kinds(fixed) == [("inputs_missing", "knn-mse-1")]
    assert not fixed["ok"]


def test_missing_distance_file_marks_the_set_for_recomputation(built: Built) -> None:
    (built.root / DIST).unlink()
    assert _kinds(check_store(built.store)) == [("array_missing", DIST)]
    fixed = check_store(built.store, repair=True)
    assert fixed["ok"], fixed
    assert "percmusic distances" in fixed["repaired"][0]["detail"]
    assert _count(built.store, "SELECT count(*) FROM distance_sets") == 0
    assert _count(built.store, f"SELECT count(*) FROM arrays WHERE path = '{DIST}'") == 0


def test_array_replaced_by_a_pickle_or_garbage_is_refused_unread(built: Built) -> None:
    (built.root / FEAT).write_bytes(pickle.dumps({"evil": 1}))
    with open(built.root / DIST, "wb") as fh:  # a real .npy, but of Python objects
        np.lib.format.write_array(fh, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    report = check_store(built.store)
    details = {f["path"]: f["detail"] for f in report["problems"]}
    assert _kinds(report) == [("array_unreadable", DIST), ("array_unreadable", FEAT)]
    assert "not an .npy file" in details[FEAT]
    assert "pickle" in details[DIST]


def test_header_disagreeing_with_its_row_is_a_mismatch(built: Built) -> None:
    with built.store.connect() as con:
        con.execute(f"UPDATE arrays SET shape = '[4, 5]' WHERE path = '{LAT}'")
    report = check_store(built.store)
    assert _kinds(report) == [("array_mismatch", LAT)]
    assert "float64[4, 3]" in report["problems"][0]["detail"]


def test_row_without_array_record_is_forgotten(built: Built) -> None:
    with built.store.connect() as con:
        con.execute(f"DELETE FROM arrays WHERE path = '{LAT}'")
    assert _kinds(check_store(built.store)) == [("row_without_array", LAT)]
    fixed = check_store(built.store, repair=True)
    assert fixed["ok"] and not (built.root / LAT).exists()
    assert _count(built.store, "SELECT count(*) FROM latent_sets") == 0


def test_unknown_files_are_problems_and_repair_quarantines_them(built: Built) -> None:
    (built.root / "arrays" / "notes.txt").write_text("mine")
    (built.root / "arrays" / "folder").mkdir()
    (built.root / "checkpoints" / "stray").mkdir(parents=True)
    report = check_store(built.store)
    assert _kinds(report) == [
        ("orphan_checkpoint", "checkpoints/stray"),
        ("orphan_file", "arrays/folder"),
        ("orphan_file", "arrays/notes.txt"),
    ]
    fixed = check_store(built.store, repair=True)
    assert fixed["ok"]
    kept = list((built.root / "quarantine").iterdir())
    assert len(kept) == 3
    assert any(p.is_file() and p.read_text() == "mine" for p in kept)


def test_leftovers_of_killed_commands_pass_and_repair_removes_them(built: Built) -> None:
    arrays = built.root / "arrays"
    (arrays / ".tmp-x1y2").write_bytes(b"half")
    a.write_array(built.root, "arrays/features-dddd.npy", np.zeros(3), kind="features")
    a.write_part(built.root, FEAT, "chunk-00000", {"images": np.zeros(2)})  # FEAT is recorded
    a.write_part(built.root, "arrays/features-eeee.npy", "chunk-00000", {"images": np.zeros(2)})
    (arrays / "features-eeee.npy.parts" / ".tmp-zz").write_bytes(b"")
    (built.root / "sources" / "x" / "blues").mkdir(parents=True)
    (built.root / "sources" / "x" / "blues" / ".a.wav.partial-123").write_bytes(b"")
    report = check_store(built.store)
    assert report["ok"], report
    assert _kinds(report, "leftovers") == [
        ("stale_parts", "arrays/features-aaaa.npy.parts"),
        ("temporary", "arrays/.tmp-x1y2"),
        ("temporary", "arrays/features-eeee.npy.parts/.tmp-zz"),
        ("temporary", "sources/x/blues/.a.wav.partial-123"),
        ("uncommitted", "arrays/features-dddd.npy"),
    ]
    assert _kinds(report, "in_progress") == [("parts", "arrays/features-eeee.npy.parts")]
    fixed = check_store(built.store, repair=True)
    assert fixed["leftovers"] == [] and fixed["ok"]
    assert sorted(p.name for p in arrays.iterdir()) == [
        "dist-mse-bbbb.npy",
        "features-aaaa.npy",
        "features-eeee.npy.parts",
        "latents-cccc.npy",
    ]
    # Resumable work is kept: only its temporary file went.
    assert sorted(p.name for p in (arrays / "features-eeee.npy.parts").iterdir()) == [
        "chunk-00000.npz",
        "chunk-00000.sha256",
    ]


def test_while_a_writer_runs_its_temporary_files_are_work_in_progress(built: Built) -> None:
    (built.root / "arrays" / ".tmp-live").write_bytes(b"")
    with WriterLock(built.root, command="features"):
        report = check_store(built.store)
        with pytest.raises(StoreLockedError, match="in use by PID"):
            api.check(built.store, repair=True)
    assert report["ok"] and report["leftovers"] == []
    assert report["writer"] is not None and "features" in report["writer"]
    assert _kinds(report, "in_progress") == [("temporary", "arrays/.tmp-live")]
    assert (built.root / "arrays" / ".tmp-live").exists()
    assert sc.writer_holder(built.root) is None  # released, and the probe left no lock


def test_good_checkpoint_passes_and_a_refused_one_is_quarantined(built: Built) -> None:
    _add_model(built.store)
    assert check_store(built.store)["ok"]
    run_dir = built.root / "checkpoints" / MODEL
    (run_dir / "ckpt-00000003" / "model.safetensors").write_bytes(pickle.dumps([1, 2]))
    (run_dir / ".tmp-ckpt-abc").mkdir()
    report = check_store(built.store)
    assert _kinds(report) == [("checkpoint_broken", f"checkpoints/{MODEL}")]
    assert "pickle" in report["problems"][0]["detail"]
    assert _kinds(report, "leftovers") == [("temporary", f"checkpoints/{MODEL}/.tmp-ckpt-abc")]
    fixed = check_store(built.store, repair=True)
    assert fixed["ok"] and not run_dir.exists()
    assert _kinds(fixed, "in_progress") == [("model_broken", f"checkpoints/{MODEL}")]
    with built.store.connect(read_only=True) as con:
        model = sm.get_model(con, MODEL)
    assert model is not None and model["status"] == "broken"


def test_a_done_model_without_checkpoint_is_a_problem(built: Built) -> None:
    _add_model(built.store, checkpoint=False)
    assert _kinds(check_store(built.store)) == [("checkpoint_missing", f"checkpoints/{MODEL}")]


def test_npy_header_reads_shape_and_dtype_without_loading(tmp_path: Path) -> None:
    path = tmp_path / "x.npy"
    np.save(path, np.zeros((3, 2), dtype=np.float32))
    assert sc.npy_header(path) == ((3, 2), "float32")
    path.write_bytes(b"\x93NUMPY\x01\x00\x10\x00{'descr': __import__('os')}")
    with pytest.raises(ValueError, match=r"unreadable \.npy header"):
        sc.npy_header(path)


def test_cli_exit_codes_table_and_json(built: Built) -> None:
    runner = CliRunner()
    base = ["--store", str(built.root), "check"]
    clean = runner.invoke(app, base)
    assert clean.exit_code == 0 and "ok:" in clean.stdout
    (built.root / DIST).unlink()
    bad = runner.invoke(app, [*base, "--json"])
    assert bad.exit_code == 2
    assert json.loads(bad.stdout)["problems"][0]["kind"] == "array_missing"
    table = runner.invoke(app, base)
    assert table.exit_code == 2 and "array_missing" in table.stdout and "--repair" in table.stdout
    repaired = runner.invoke(app, [*base, "--repair"])
    assert repaired.exit_code == 0 and "recompute" in repaired.stdout


# ---------------------------------------------------------------- rm and interrupted


def _with_model_and_latents(built: Built) -> None:
    _add_model(built.store)
    sm.save_latents(built.store, "dddd", MODEL, "aaaa", "meanstd", np.ones((4, 3)))


def test_rm_removes_runs_models_latents_and_checkpoints(built: Built) -> None:
    _with_model_and_latents(built)
    summary = api.remove(built.store, ["knn-mse", "ae-mse"])
    assert summary["removed"] and summary["runs"] == ["knn-mse-1"]
    assert summary["models"] == [MODEL] and list(summary["latents"]) == ["dddd"]
    for table in ("runs", "predictions", "models", "loss_history"):
        assert _count(built.store, f"SELECT count(*) FROM {table}") == 0, table
    assert _count(built.store, "SELECT count(*) FROM latent_sets") == 1  # raw's stays
    assert not (built.root / "checkpoints" / MODEL).exists()
    assert not (built.root / "arrays" / "latents-dddd.npy").exists()
    report = check_store(built.store)
    assert report["ok"] and report["leftovers"] == [] and report["in_progress"] == []
    assert report["checked"]["arrays"] == 3  # features, distances and the first latents stay


def test_rm_refuses_unknown_ids_and_a_declined_confirmation(built: Built) -> None:
    with pytest.raises(UsageError, match="no run, model, feature set or distance matrix 'nope'"):
        api.remove(built.store, ["knn-mse-1", "nope"])
    assert api.remove(built.store, ["knn-mse-1"], confirm=lambda plan: False)["removed"] is False
    assert _count(built.store, "SELECT count(*) FROM runs") == 1


@pytest.mark.parametrize("crash_in", ["_to_trash", "drop_models", "rmtree"])
def test_rm_crashing_midway_leaves_a_store_check_passes(
    built: Built, crash_in: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from percmusic_cli.steps import remove as step

    def boom(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    _with_model_and_latents(built)
    target = (
        step.shutil if crash_in == "rmtree" else (step.sr if crash_in == "drop_models" else step)
    )
    monkeypatch.setattr(target, crash_in, boom)
    with pytest.raises(KeyboardInterrupt):
        api.remove(built.store, ["knn-mse-1", MODEL])
    monkeypatch.undo()
    report = check_store(built.store)
    # Only the half-removed model is flagged (issue 20): repair (or the same rm) finishes it.
    assert {p["kind"] for p in report["problems"]} <= {"removal_unfinished"}, report["problems"]
    repaired = check_store(built.store, repair=True)
    assert repaired["ok"] and repaired["leftovers"] == []
    # What was half removed can be removed again, or (a model) trained again.
    if _count(built.store, f"SELECT count(*) FROM models WHERE model_id = '{MODEL}'"):
        api.remove(built.store, [MODEL])
    final = check_store(built.store)
    assert final["ok"] and final["leftovers"] == [] and final["in_progress"] == []


def test_rm_without_a_terminal_needs_yes(built: Built) -> None:
    runner = CliRunner()
    refused = runner.invoke(app, ["--store", str(built.root), "rm", "knn-mse-1"])
    assert refused.exit_code == 1 and "pass --yes" in refused.stderr
    done = runner.invoke(app, ["--store", str(built.root), "rm", "--yes", "knn-mse-1"])
    assert done.exit_code == 0 and "removed run knn-mse-1" in done.stdout
    assert _count(built.store, "SELECT count(*) FROM runs") == 0


def test_stopped_training_shows_interrupted_and_repair_records_it(built: Built) -> None:
    _add_model(built.store)
    with built.store.connect() as con:
        con.execute("UPDATE models SET status = 'training'")
    assert [m["status"] for m in api.models(built.store)] == ["interrupted"]
    with WriterLock(built.root, command="train --loss mse"):
        assert [m["status"] for m in api.models(built.store)] == ["training"]  # live writer
    report = check_store(built.store, repair=True)
    assert [(f["kind"], f["path"]) for f in report["repaired"]] == [("interrupted", MODEL)]
    assert _count(built.store, "SELECT count(*) FROM models WHERE status = 'interrupted'") == 1
