"""Issue 20, sizes that must be bounded and outputs that must fail cleanly: labels are
drawn as plain text (no mathtext), shortened for display with their full text in the CSV,
and a `figures --out` that cannot be a writable folder is one line with the right code."""

from __future__ import annotations

import csv
import os
import time
from pathlib import Path

import pytest
from fixture_store import StoreCopies, build_store
from typer.testing import CliRunner

from percmusic_cli import api
from percmusic_cli.cli.app import app
from percmusic_cli.render.figures import write_figures
from percmusic_cli.render.text import MAX_CHARS, for_display, short
from percmusic_cli.steps.figures import FigureData, Table

LONG_A = "a" * 4096
LONG_B = "a" * 4095 + "b"  # shares 4095 characters with LONG_A


@pytest.mark.parametrize(
    "value", [LONG_A, "x" * (MAX_CHARS + 1), "é" * 500, "line\n" * 50, "$" * 100]
)
def test_short_is_bounded_and_one_line(value: str) -> None:
    shown = short(value)
    assert len(shown) <= MAX_CHARS and "\n" not in shown
    assert shown.endswith(short(value)[-5:])  # deterministic


def test_short_keeps_short_names_and_tells_long_ones_apart() -> None:
    assert short("blues") == "blues"
    assert short("$x^2$") == "$x^2$"  # plain text: the figure draws the dollars
    assert short(LONG_A) != short(LONG_B)


def test_for_display_shortens_text_cells_only() -> None:
    fig = FigureData("f", "t" * 500, "table", {"t": Table(("label", "n", "x"), [(LONG_A, 3, 0.5)])})
    shown = for_display(fig)
    assert shown.tables["t"].rows == [(short(LONG_A), 3, 0.5)]
    assert len(shown.title) <= 2 * MAX_CHARS
    assert fig.tables["t"].rows[0][0] == LONG_A  # the original (the CSV's) is untouched


HOSTILE = [
    (LONG_A, LONG_B, "blues", "rock"),  # issue 20: 5.5 min and 10 GB for one such label
    ("$x^$", "$\\frac{$", "$$", "a$b$c"),  # mathtext that matplotlib cannot parse
    ("[bold]", "new\nline", "tab\tx", "é" * 300),
]


# One store holds every label above: the figures take the same time to draw for 12 labels as
# for 4, and one store and one drawing instead of three was most of this file's time.
ALL_HOSTILE = tuple(label for labels in HOSTILE for label in labels)


def test_figures_draw_hostile_labels_quickly_with_full_text_in_the_csv(tmp_path: Path) -> None:
    store = build_store(tmp_path / "store", ALL_HOSTILE)
    figures = api.figure_data(store)
    start = time.perf_counter()
    paths = write_figures(figures, tmp_path / "figs", "svg")
    assert time.perf_counter() - start < 120  # minutes before the labels were shortened
    confusion = tmp_path / "figs" / "fig3-knn-confusion.csv"
    assert confusion in paths
    with confusion.open(encoding="utf-8") as f:
        cells = {v for row in csv.reader(f) for v in row}
    assert set(ALL_HOSTILE) <= cells  # the CSV keeps the full text
    svg = (tmp_path / "figs" / "fig3-knn-confusion.svg").read_text(encoding="utf-8")
    # drawn shortened: no label longer than a tick label's room appears whole
    assert all(len(label) <= MAX_CHARS or label not in svg for label in ALL_HOSTILE)


@pytest.fixture(scope="module")
def fixture(tmp_path_factory: pytest.TempPathFactory, store_copies: StoreCopies) -> Path:
    return store_copies.copy(tmp_path_factory.mktemp("out") / "store").root


def _figures(store: Path, out: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["--store", str(store), "figures", "--out", out])
    return result.exit_code, result.stderr


def test_out_is_an_existing_file(fixture: Path, tmp_path: Path) -> None:
    existing = tmp_path / "figs.pdf"
    existing.write_text("mine")
    code, err = _figures(fixture, str(existing))
    assert code == 1 and "is a file, not a folder" in err and len(err.splitlines()) == 1
    assert existing.read_text() == "mine"


def test_out_is_dev_null(fixture: Path) -> None:
    code, err = _figures(fixture, os.devnull)
    assert code == 1 and "/dev/null is a file, not a folder" in err
    assert len(err.splitlines()) == 1


@pytest.mark.parametrize("parts", [("x" * 300,), ("ok", "y" * 300), ("z" * 256, "w")])
def test_out_name_too_long(fixture: Path, tmp_path: Path, parts: tuple[str, ...]) -> None:
    code, err = _figures(fixture, str(tmp_path.joinpath(*parts)))
    assert code == 1 and "File name too long" in err and len(err.splitlines()) == 1
    assert "internal error" not in err


def test_out_under_a_file(fixture: Path, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    code, err = _figures(fixture, str(tmp_path / "file" / "figs"))
    assert code == 1 and "Not a directory" in err and len(err.splitlines()) == 1


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
@pytest.mark.parametrize("sub", ["", "new"])
def test_out_read_only_folder(fixture: Path, tmp_path: Path, sub: str) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        code, err = _figures(fixture, str(locked / sub) if sub else str(locked))
    finally:
        locked.chmod(0o755)
    assert code == 2 and len(err.splitlines()) == 1 and "internal error" not in err


def test_out_not_writable_is_a_data_error(
    fixture: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What a read-only folder gives a user who is not root (root may write anywhere).
    from percmusic_cli.cli import outdir

    monkeypatch.setattr(outdir.os, "access", lambda *a, **k: False)
    code, err = _figures(fixture, str(tmp_path / "ro"))
    assert code == 2 and "is not writable" in err and len(err.splitlines()) == 1


@pytest.mark.parametrize(
    ("errno_", "code"),
    [(28, 2), (13, 2), (30, 2), (36, 1)],
    ids=["ENOSPC", "EACCES", "EROFS", "ENAMETOOLONG"],
)
def test_a_refused_write_is_one_line(
    fixture: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, errno_: int, code: int
) -> None:
    from percmusic_cli.render import figures as rf

    def refuse(*args: object) -> list[Path]:
        raise OSError(errno_, os.strerror(errno_))

    monkeypatch.setattr(rf, "write_figures", refuse)
    got, err = _figures(fixture, str(tmp_path / "figs"))
    assert got == code and os.strerror(errno_) in err
    errors = [line for line in err.splitlines() if line.startswith("error")]
    assert "internal error" not in err and len(errors) == 1  # after the notes, one error line
