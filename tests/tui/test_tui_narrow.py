"""Issue 19 item 8 in the dashboard at 80 columns: the Runs screen shows the test F1 without
scrolling sideways, and the Claims screen shows every CI whole (never cut to "…")."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import Any

import pytest
from fixture_store import StoreCopies
from pilots import settle
from rich.console import Console, Group
from textual.widgets import DataTable, Static

from percmusic_cli.store import Store
from percmusic_cli.store.studies import save_study
from percmusic_cli.tui.app import build_app
from percmusic_cli.tui.screens.claims import ClaimsScreen
from percmusic_cli.tui.screens.results import ResultsScreen


def _study(repeated: bool, long_label: bool) -> dict[str, Any]:
    metrics = ("mse", "msssim", "nlpd")
    cell = {"mean": 0.412, "sd_seeds": 0.031, "sd_folds": 0.052, "low": 0.351, "high": 0.472}
    one = {"test_f1": 0.4123, "test_f1_low": 0.351, "test_f1_high": 0.472}
    label = "a rather long metric label" if long_label else "MSE"
    rows = [
        {
            "metric": m,
            "label": f"{label} {m}",
            "knn": {**one, "param_name": "k", "param": 7},
            "latent": {**one, "param_name": "C", "param": 0.01},
        }
        for m in metrics
    ]
    claim = {
        "claim": "AE+LR beats KNN (NLPD) by a margin worth a long sentence",
        "diff": 0.031,
        "low": -0.093,
        "high": 0.149,
        "p_holm": 0.42,
        "verdict": "not resolved at this size",
        "loss_ratio": 0.96,
        "not_learned": 1,
        "n_models": 3,
    }
    study: dict[str, Any] = {"dataset": "fixture", "split": "fault-filtered", "preset": "quick"}
    study |= {"seeds": 3 if repeated else 1, "folds": 2 if repeated else 1, "n_boot": 1000}
    study |= {"rows": rows, "controls": [{**one, "metric": "raw", "param_name": "C", "param": 1}]}
    study |= {"claims": [claim, {**claim, "low": -0.1234, "high": 0.5678}]}
    if repeated:
        study["summary"] = {f"{k}:{m}": cell for m in metrics for k in ("knn", "ae")}
        study["summary"] |= {"raw": cell, "untrained": cell}
    return study


# (repeated, long_label): one or several seeds and folds, short or long metric labels
CLAIMS_CASES = [(False, False), (True, False), (False, True), (True, True)]


def test_claims_show_whole_cis_at_80_columns(tmp_path: Path, store_copies: StoreCopies) -> None:
    store = store_copies.copy(tmp_path / "store")
    asyncio.run(_claims(store))


async def _claims(store: Store) -> None:
    """Each case's study, stored in turn and reloaded (r) in one app session."""
    app = build_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("6")
        for repeated, long_label in CLAIMS_CASES:
            case = f"repeated={repeated} long_label={long_label}"
            with store.connect() as con:
                save_study(con, "s1", _study(repeated, long_label))
            await settle(pilot, "r")
            screen = app.screen
            assert isinstance(screen, ClaimsScreen) and screen.shown, case
            assert screen.study is not None and screen.study["seeds"] == (3 if repeated else 1)
            width = screen.query_one("#claims", Static).size.width
            buf = io.StringIO()
            Console(file=buf, width=width).print(Group(*screen.shown))
            text = buf.getvalue()
            assert "…" not in text, case
            assert "[-0.09, +0.15]" in text and "[-0.12, +0.57]" in text, case
            assert "[0.35, 0.47]" in text, case


@pytest.mark.parametrize(
    "labels", [("blues", "jazz"), ("a-much-longer-genre-name", "x" * 30)], ids=["short", "long"]
)
def test_runs_screen_shows_test_f1_without_scrolling(
    tmp_path: Path, store_copies: StoreCopies, labels: tuple[str, ...]
) -> None:
    store = store_copies.copy(tmp_path / "store", labels)
    asyncio.run(_runs(store))


async def _runs(store: Store) -> None:
    app = build_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, "2")
        screen = app.screen
        assert isinstance(screen, ResultsScreen)
        table = screen.query_one("#runs", DataTable)
        right = 0
        for key in ("mark", "run", "test"):
            right += table.columns[key].get_render_width(table)  # type: ignore[index]
        assert right <= table.scrollable_content_region.width
        assert table.scroll_x == 0


@pytest.mark.parametrize("label", ["y[/]", "[bold]x", "[/a[", "esc\x1b[31m"])
def test_study_tables_show_hostile_labels_as_written(label: str) -> None:
    # Textual's console reads markup in plain strings; the study's labels and claims are
    # plugin-given text, so they reach it as Text.
    from percmusic_cli.render import safe
    from percmusic_cli.render.study import reproduce_tables

    for repeated in (False, True):
        study = _study(repeated, long_label=False)
        for row in study["rows"]:
            row["label"] = label
        for claim in study["claims"]:
            claim["claim"] = f"AE+LR beats KNN ({label})"
        buf = io.StringIO()
        Console(file=buf, width=200).print(Group(*reproduce_tables(study)))
        assert safe.shown(label) in buf.getvalue()
        assert f"AE+LR beats KNN ({safe.shown(label)})" in buf.getvalue()
