"""A dataset as the experiments see it: its latest feature set cut by the active split."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from percmusic_cli.errors import DataError
from percmusic_cli.progress import Reporter
from percmusic_cli.steps.features import load_features
from percmusic_cli.steps.split import PARTS
from percmusic_cli.store import Store
from percmusic_cli.store import tables as t


@dataclass
class SplitView:
    dataset: str
    split: str
    feature_hash: str
    track_ids: list[str]  # rows of the feature array
    labels: list[str]  # label per row
    rows: dict[str, np.ndarray] = field(default_factory=dict)  # part -> row indices

    def ids(self, part: str) -> list[str]:
        return [self.track_ids[i] for i in self.rows[part]]

    def part_labels(self, part: str) -> list[str]:
        return [self.labels[i] for i in self.rows[part]]

    @property
    def classes(self) -> list[str]:
        return sorted(set(self.labels))

    def images(self, store: Store) -> np.ndarray:
        return load_features(store, self.feature_hash)[1]


def split_view(store: Store, dataset: str, feature_hash: str | None = None) -> SplitView:
    with store.connect(read_only=True) as con:
        key = feature_hash or t.latest_feature_hash(con, dataset)
        if key is None:
            raise DataError(f"dataset {dataset!r} has no features: run `percmusic features`")
        fs = t.feature_set(con, key)
        split = t.active_split(con, dataset)
        labels = {r.track_id: r.label for r in t.tracks(con, dataset)}
    if fs is None:
        raise DataError(f"feature set {key} is not in the store")
    if split is None:
        raise DataError(f"dataset {dataset!r} has no split: run `percmusic filter`")
    name, members = split
    view = SplitView(dataset, name, key, fs.track_ids, [labels[i] for i in fs.track_ids])
    for part in PARTS:
        view.rows[part] = np.array(
            [i for i, tid in enumerate(fs.track_ids) if members.get(tid) == part], dtype=np.int64
        )
    view.rows["all"] = np.array(
        [i for i, tid in enumerate(fs.track_ids) if members.get(tid, "excluded") != "excluded"],
        dtype=np.int64,
    )
    if len(view.rows["train"]) == 0 or len(view.rows["test"]) == 0:
        raise DataError(f"split {name!r} of {dataset!r} has an empty train or test part")
    return view


MIN_TEST_PER_LABEL = 5  # below this a per-label score, and the CI, rest on a handful


def check_usable(view: SplitView, allow_degenerate: bool = False) -> list[str]:
    """Refuse (DataError) a split whose test part has a label without training tracks,
    naming labels and counts; return a warning when a test label has fewer than
    MIN_TEST_PER_LABEL tracks. `allow_degenerate` turns the refusal into a warning too."""
    train = Counter(view.part_labels("train"))
    test = Counter(view.part_labels("test"))
    warnings = []
    orphans = [f"{lab} (test {n}, train 0)" for lab, n in sorted(test.items()) if not train[lab]]
    if orphans:
        message = (
            f"split {view.split!r} of {view.dataset!r}: {len(orphans)} test labels have no "
            f"training tracks: {', '.join(orphans)}; make another split (`percmusic filter "
            "--split random`) or pass --allow-degenerate"
        )
        if not allow_degenerate:
            raise DataError(message)
        warnings.append("warning: " + message.split("; make")[0])
    thin = [f"{lab} {n}" for lab, n in sorted(test.items()) if n < MIN_TEST_PER_LABEL]
    if thin:
        warnings.append(
            f"warning: the test part has fewer than {MIN_TEST_PER_LABEL} tracks for "
            f"{len(thin)} of {len(test)} labels ({', '.join(thin[:6])}"
            f"{' ...' if len(thin) > 6 else ''}): scores and CIs rest on few tracks"
        )
    return warnings


def dataset_view(store: Store, dataset: str | None) -> SplitView:
    """The named (or only) dataset's active feature set cut by its active split."""
    from percmusic_cli.steps import common

    return split_view(store, common.resolve_dataset(store, dataset))


def usable_view(
    store: Store, dataset: str | None, allow_degenerate: bool, reporter: Reporter | None
) -> SplitView:
    """`dataset_view`, refused when a test label has no training tracks (unless allowed),
    with a warning on the reporter (if any) when the test part is thin."""
    view = dataset_view(store, dataset)
    for line in check_usable(view, allow_degenerate):
        if reporter is not None:
            reporter.log(line)
    return view
