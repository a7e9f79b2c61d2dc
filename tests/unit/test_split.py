"""Splits: stratified random proportions, determinism, ratio parsing."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from percmusic_cli.errors import UsageError
from percmusic_cli.steps.split import _largest_remainder, parse_ratios, stratified


def _labels(per_class: dict[str, int]) -> dict[str, str]:
    return {f"{lab}.{i:03d}": lab for lab, n in per_class.items() for i in range(n)}


def test_stratified_keeps_ratios_per_label() -> None:
    labels = _labels({"a": 10, "b": 20, "c": 7})
    members = stratified(labels, (0.5, 0.2, 0.3), seed=3)
    assert set(members) == set(labels)
    counts = Counter((labels[t], p) for t, p in members.items())
    assert (counts[("a", "train")], counts[("a", "valid")], counts[("a", "test")]) == (5, 2, 3)
    assert (counts[("b", "train")], counts[("b", "valid")], counts[("b", "test")]) == (10, 4, 6)
    assert sum(counts[("c", p)] for p in ("train", "valid", "test")) == 7


def test_stratified_is_deterministic_and_seed_dependent() -> None:
    labels = _labels({"a": 30, "b": 30})
    first = stratified(labels, (0.5, 0.2, 0.3), seed=1)
    assert stratified(labels, (0.5, 0.2, 0.3), seed=1) == first
    assert stratified(labels, (0.5, 0.2, 0.3), seed=2) != first


@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, 500), a=st.floats(0, 1), b=st.floats(0, 1), c=st.floats(0.01, 1))
def test_largest_remainder_sums_to_n_and_stays_close(n: int, a: float, b: float, c: float) -> None:
    total = a + b + c
    ratios = (a / total, b / total, c / total)
    counts = _largest_remainder(n, ratios)
    assert sum(counts) == n
    assert all(abs(k - n * r) < 1 + 1e-9 for k, r in zip(counts, ratios, strict=True))


def test_parse_ratios_takes_fractions_summing_to_one_and_never_normalises() -> None:
    assert parse_ratios("0.5,0.2,0.3") == pytest.approx((0.5, 0.2, 0.3))
    assert parse_ratios("0.7,0,0.3") == pytest.approx((0.7, 0.0, 0.3))  # valid may be empty
    assert sum(parse_ratios("0.333,0.333,0.333")) == pytest.approx(1.0)  # within 0.001
    bad = ("2,1,1", "0.9,0.9,0.9", "1e308,1,1", "nan,nan,nan", "inf,1,1", "1,0,0", "0,0.5,0.5")
    for text in (*bad, "0.5,0.5", "a,b,c", "-1,1,1", "0,0,0", ""):
        with pytest.raises(UsageError, match=r"^--ratios "):
            parse_ratios(text)
