"""Repeated evaluation for small datasets: stratified K-fold cross-validation over tracks.

K-fold rather than K repeated random splits: every track is a test track exactly once, so
the K test parts are disjoint and together are the whole dataset; the mean over folds uses
every track once and the per-fold test sets can be resampled independently (a stratified
bootstrap). Repeated random splits test some tracks several times and others never.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

import numpy as np

from percmusic_cli.errors import UsageError

# A fold run's split name (steps/folds.py): "<split>/fold<i>of<k>-s<seed>".
_FOLD = re.compile(r"/fold(\d+)of(\d+)-s(-?\d+)$")


def fold_of(split: str) -> tuple[str, str]:
    """('random', '2/5') for a fold run's split 'random/fold2of5-s0'; (split, '') else."""
    m = _FOLD.search(split)
    return (split, "") if m is None else (split[: m.start()], f"{m.group(1)}/{m.group(2)}")


# Fewer test tracks per class than this: scores move in steps of 1/n and most differences
# cannot be resolved; reproduce prints a hint.
SMALL_TEST_PER_CLASS = 10


def kfold_test_masks(labels: Sequence[str], k: int, seed: int) -> list[np.ndarray]:
    """One boolean test mask per fold (stratified, shuffled with `seed`); disjoint, covering."""
    counts = Counter(labels)
    label, smallest = min(counts.items(), key=lambda kv: (kv[1], kv[0]))
    if k < 2:
        raise UsageError(f"--folds must be at least 2 for cross-validation, got {k}")
    if smallest < k:
        raise UsageError(
            f"--folds {k} needs at least {k} tracks in every class; {label!r} has {smallest}"
        )
    # Imported here: scikit-learn's model_selection pulls in rich (see stats.cv_folds).
    from sklearn.model_selection import StratifiedKFold

    y = np.asarray(labels)
    skf = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    masks = []
    for _, test in skf.split(np.zeros((len(y), 1)), y):
        mask = np.zeros(len(y), dtype=bool)
        mask[test] = True
        masks.append(mask)
    return masks


def small_test_hint(test_labels: Sequence[str], seeds: int = 1, folds: int = 1) -> str | None:
    """A one-line hint when the test part has fewer than 10 tracks in some class; it
    suggests only the repetitions that did not run."""
    counts = Counter(test_labels)
    if not counts:
        return None
    label, smallest = min(counts.items(), key=lambda kv: (kv[1], kv[0]))
    if smallest >= SMALL_TEST_PER_CLASS:
        return None
    todo = [
        o
        for o, done in (("folds (--folds 5)", folds > 1), ("seeds (--seeds 3)", seeds > 1))
        if not done
    ]
    part = "each fold's test part" if folds > 1 else "the test part"
    fix = f"repeat over {' and '.join(todo)}" if todo else "only more tracks per class help"
    return (
        f"hint: {part} has {smallest} track(s) of {label!r} (under "
        f"{SMALL_TEST_PER_CLASS} per class): differences rarely resolve at this size; {fix}"
    )
