"""Numbered, append-only migrations. Never edit an applied one: add the next number."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    sql: str


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "datasets, tracks, ingest problems, splits, arrays, feature sets",
        """
        CREATE TABLE datasets (
            name VARCHAR PRIMARY KEY, kind VARCHAR NOT NULL, root VARCHAR NOT NULL,
            created_at TIMESTAMP DEFAULT current_timestamp);
        CREATE TABLE tracks (
            dataset VARCHAR NOT NULL, track_id VARCHAR NOT NULL, label VARCHAR NOT NULL,
            rel_path VARCHAR NOT NULL, path VARCHAR NOT NULL, md5 VARCHAR,
            md5_status VARCHAR, duration_s DOUBLE, sample_rate INTEGER, channels INTEGER,
            status VARCHAR NOT NULL, error VARCHAR,
            ingested_at TIMESTAMP DEFAULT current_timestamp,
            PRIMARY KEY (dataset, track_id));
        CREATE TABLE ingest_problems (
            dataset VARCHAR NOT NULL, path VARCHAR NOT NULL, reason VARCHAR NOT NULL,
            PRIMARY KEY (dataset, path));
        CREATE TABLE splits (
            dataset VARCHAR NOT NULL, name VARCHAR NOT NULL, params VARCHAR NOT NULL,
            active BOOLEAN NOT NULL, created_at TIMESTAMP DEFAULT current_timestamp,
            PRIMARY KEY (dataset, name));
        CREATE TABLE split_members (
            dataset VARCHAR NOT NULL, split VARCHAR NOT NULL, track_id VARCHAR NOT NULL,
            part VARCHAR NOT NULL, PRIMARY KEY (dataset, split, track_id));
        CREATE TABLE arrays (
            path VARCHAR PRIMARY KEY, kind VARCHAR NOT NULL, shape VARCHAR NOT NULL,
            dtype VARCHAR NOT NULL, sha256 VARCHAR NOT NULL, nbytes BIGINT NOT NULL,
            created_at TIMESTAMP DEFAULT current_timestamp);
        CREATE TABLE feature_sets (
            feature_hash VARCHAR PRIMARY KEY, dataset VARCHAR NOT NULL, config VARCHAR NOT NULL,
            n_tracks INTEGER NOT NULL, n_mels INTEGER NOT NULL, n_frames INTEGER NOT NULL,
            array_path VARCHAR NOT NULL, created_at TIMESTAMP DEFAULT current_timestamp);
        CREATE TABLE feature_tracks (
            feature_hash VARCHAR NOT NULL, row_index INTEGER NOT NULL, track_id VARCHAR NOT NULL,
            padded BOOLEAN NOT NULL, PRIMARY KEY (feature_hash, row_index));
        """,
    ),
    Migration(
        2,
        "pairwise distance matrices and their distribution statistics",
        """
        CREATE TABLE distance_sets (
            dist_hash VARCHAR PRIMARY KEY, metric VARCHAR NOT NULL, feature_hash VARCHAR NOT NULL,
            rows_part VARCHAR NOT NULL, cols_part VARCHAR NOT NULL, config VARCHAR NOT NULL,
            n_rows INTEGER NOT NULL, n_cols INTEGER NOT NULL, array_path VARCHAR NOT NULL,
            device VARCHAR, wall_s DOUBLE, created_at TIMESTAMP DEFAULT current_timestamp);
        CREATE TABLE distance_stats (
            dist_hash VARCHAR NOT NULL, metric VARCHAR NOT NULL, grp VARCHAR NOT NULL,
            n BIGINT NOT NULL, quantiles VARCHAR NOT NULL, density VARCHAR NOT NULL,
            PRIMARY KEY (dist_hash, grp));
        """,
    ),
    Migration(
        3,
        "experiment runs, their metrics, predictions and selection curves",
        """
        CREATE TABLE runs (
            run_id VARCHAR PRIMARY KEY, kind VARCHAR NOT NULL, name VARCHAR NOT NULL,
            dataset VARCHAR NOT NULL, split VARCHAR NOT NULL, feature_hash VARCHAR,
            input_key VARCHAR NOT NULL, config VARCHAR NOT NULL, seed INTEGER,
            git_rev VARCHAR, versions VARCHAR, device VARCHAR, wall_s DOUBLE,
            result VARCHAR NOT NULL, created_at TIMESTAMP DEFAULT current_timestamp);
        CREATE TABLE run_metrics (
            run_id VARCHAR NOT NULL, name VARCHAR NOT NULL, value DOUBLE,
            low DOUBLE, high DOUBLE, PRIMARY KEY (run_id, name));
        CREATE TABLE predictions (
            run_id VARCHAR NOT NULL, track_id VARCHAR NOT NULL, true_label VARCHAR NOT NULL,
            pred_label VARCHAR NOT NULL, neighbours VARCHAR, distances VARCHAR,
            PRIMARY KEY (run_id, track_id));
        CREATE TABLE curves (
            run_id VARCHAR NOT NULL, param VARCHAR NOT NULL, x DOUBLE NOT NULL,
            score DOUBLE NOT NULL, chosen BOOLEAN NOT NULL, PRIMARY KEY (run_id, x));
        """,
    ),
    Migration(
        4,
        "trained models, loss history, latent feature sets",
        """
        CREATE TABLE models (
            model_id VARCHAR PRIMARY KEY, loss VARCHAR NOT NULL, data VARCHAR NOT NULL,
            model_config VARCHAR NOT NULL, train_config VARCHAR NOT NULL,
            checkpoint_dir VARCHAR NOT NULL, steps_done INTEGER NOT NULL,
            steps_total INTEGER NOT NULL, status VARCHAR NOT NULL, device VARCHAR,
            wall_s DOUBLE, feature_hash VARCHAR,
            created_at TIMESTAMP DEFAULT current_timestamp, updated_at TIMESTAMP);
        CREATE TABLE loss_history (
            model_id VARCHAR NOT NULL, step INTEGER NOT NULL, loss DOUBLE NOT NULL,
            PRIMARY KEY (model_id, step));
        CREATE TABLE latent_sets (
            latent_hash VARCHAR PRIMARY KEY, model_id VARCHAR NOT NULL,
            feature_hash VARCHAR NOT NULL, pool VARCHAR NOT NULL, array_path VARCHAR NOT NULL,
            created_at TIMESTAMP DEFAULT current_timestamp);
        """,
    ),
    Migration(
        5,
        "the feature set in use per dataset (the last one `features` made or reused)",
        """
        CREATE TABLE active_features (
            dataset VARCHAR PRIMARY KEY, feature_hash VARCHAR NOT NULL,
            chosen_at TIMESTAMP DEFAULT current_timestamp);
        """,
    ),
    Migration(
        6,
        "did the model learn (final loss beside the best constant output's); study claims",
        """
        ALTER TABLE models ADD COLUMN final_loss DOUBLE;
        ALTER TABLE models ADD COLUMN baseline_loss DOUBLE;
        CREATE TABLE studies (
            study_id VARCHAR PRIMARY KEY, dataset VARCHAR NOT NULL, seeds INTEGER NOT NULL,
            folds INTEGER NOT NULL, result VARCHAR NOT NULL,
            created_at TIMESTAMP DEFAULT current_timestamp);
        """,
    ),
    Migration(
        7,
        "the split a dataset's own metadata declares (a manifest's split column, FMA's set.split)",
        """
        CREATE TABLE source_splits (
            dataset VARCHAR NOT NULL, track_id VARCHAR NOT NULL, part VARCHAR NOT NULL,
            PRIMARY KEY (dataset, track_id));
        """,
    ),
    Migration(
        8,
        "size and mtime of each track's source file, to notice a file changed after ingest",
        """
        ALTER TABLE tracks ADD COLUMN size BIGINT;
        ALTER TABLE tracks ADD COLUMN mtime_ns BIGINT;
        """,
    ),
)

LATEST_VERSION = MIGRATIONS[-1].version
