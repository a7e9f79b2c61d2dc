"""`demo`: the study (`steps.study`) on the embedded synthetic dataset, one seed and one
fold, with the quick preset; its table and claims are stored like `reproduce`'s, so the
dashboard's Claims screen shows them."""

from __future__ import annotations

from typing import Any

from percmusic_cli.execution import Session

DATASET = "synthetic"


def check_options(device: str, clips_per_class: int) -> None:
    from percmusic_cli.config import MAX_CLIPS, check_device, check_int

    check_device(device)
    check_int("--clips-per-class", clips_per_class, 4, MAX_CLIPS)  # 4: a random split per class


def demo(session: Session, device: str = "auto", clips_per_class: int = 20) -> dict[str, Any]:
    from percmusic_cli.steps import ingest as ingest_step
    from percmusic_cli.steps.features import compute_features
    from percmusic_cli.steps.split import make_split
    from percmusic_cli.steps.study import study
    from percmusic_cli.steps.views import split_view

    store, reporter = session.store, session.reporter
    root = ingest_step.prepare_synthetic(store, reporter, clips_per_class=clips_per_class)
    ingest_step.ingest(store, root, dataset=DATASET, reporter=reporter)
    make_split(store, DATASET, "random", seed=0, ratios="0.5,0.2,0.3")
    compute_features(store, DATASET, device=device, reporter=reporter)
    view = split_view(store, DATASET)
    return study(session, view, preset="quick", device=device, seed=0, seeds=1, folds=1)
