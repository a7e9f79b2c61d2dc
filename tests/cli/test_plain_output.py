"""Issue 19 item 3: escaping applies to the values users supply, never to the text the
program composes: charts, prompts and headers keep their newlines (no literal \\x0a), and
`distances stats` shows the separation (ratio of means, AUC) in its table. Issue 20: an
unknown `results --dataset` lists the valid values like the other filters."""

from __future__ import annotations

import pytest
from clitools import Cli

from percmusic_cli.cli import remove
from percmusic_cli.store.remove import Removal

ESCAPED = ("\\x0a", "\\x0d", "\\x09", "\\x1b")


def _plain(text: str) -> None:
    for escaped in ESCAPED:
        assert escaped not in text, escaped


def test_results_show_plot_keeps_newlines(study: Cli) -> None:
    run_id = study.json("results", "--metric", "nlpd")[0]["run_id"]
    shown = study("results", "show", run_id, "--plot")
    assert shown.exit_code == 0, shown.output
    _plain(shown.stdout)
    # the confusion header, on two lines: "true \" over "predicted"
    assert any(line.strip().startswith("true \\") for line in shown.stdout.splitlines())
    assert "true \\\\" not in shown.stdout
    assert len(shown.stdout.splitlines()) > 30  # the chart has its own lines


@pytest.mark.parametrize("metric", ["mse", "all"])
def test_distance_stats_plot_and_table_show_the_separation(study: Cli, metric: str) -> None:
    rows = study.json("distances", "stats", "--metric", metric)
    pooled = [r for r in rows if r.get("pooled")]
    assert pooled
    shown = study("distances", "stats", "--metric", metric, "--plot")
    assert shown.exit_code == 0, shown.output
    _plain(shown.stdout)
    out = " ".join(shown.stdout.split())
    for row in {r["metric"]: r for r in pooled}.values():
        assert f"ratio of means (between / within) {row['ratio']:.3g}" in out
        assert f"AUC {row['auc']:.3f}" in out


def test_rm_prompt_is_on_separate_lines(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(remove.typer, "confirm", lambda *a, **k: False)
    removal = Removal(runs=["knn-mse-1", "knn-\x1bnlpd"], models=["ae-mse-noise-2"])
    assert remove._ask(removal) is False
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert lines[:4] == [
        "will remove:",
        "  run knn-mse-1",
        "  run knn-\\x1bnlpd",  # a stored id is still shown safely
        "  model ae-mse-noise-2 (checkpoints, loss history)",
    ]


def test_user_values_still_show_their_newlines_escaped(cli: Cli, tmp_path: object) -> None:
    from pathlib import Path

    from trees import SR, tone_clip, write_wav

    root = Path(str(tmp_path)) / "src"
    for j, label in enumerate(("new\nline", "tab\there", "plain")):
        for i in range(2):
            write_wav(root / label / f"t{i}.wav", tone_clip(200.0 + 50 * j + i, 0.5), SR)
    assert cli("ingest", str(root)).exit_code == 0
    status = cli("status")
    assert status.exit_code == 0, status.output
    assert "new\\x0aline" in status.stdout and "tab\\x09here" in status.stdout


@pytest.mark.parametrize("value", ["nope", "", "TINY", "[bold]x"])
def test_results_unknown_dataset_lists_the_valid_ones(study: Cli, value: str) -> None:
    stored = {r["dataset"] for r in study.json("results")}
    result = study("results", "--dataset", value)
    assert result.exit_code == 1, result.output
    said = " ".join(result.stderr.split())
    assert f"unknown --dataset {value!r}: choose one of" in said
    assert all(name in said for name in stored)
    assert "no runs stored" not in result.output


def test_results_known_dataset_filters(study: Cli) -> None:
    rows = study.json("results")
    name = rows[0]["dataset"]
    assert study.json("results", "--dataset", name) == [r for r in rows if r["dataset"] == name]


def test_results_dataset_on_an_empty_store_is_refused(cli: Cli) -> None:
    cli.store.mkdir(parents=True)  # an empty store (a missing one is "no store at PATH")
    result = cli("results", "--dataset", "nope")
    assert result.exit_code == 1
    assert "unknown --dataset 'nope'" in result.stderr


@pytest.mark.parametrize("name", ["new\nline", "cr\rhere", "esc\x1b[2J"])
def test_log_lines_stay_one_line(
    name: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from percmusic_cli.cli import output

    assert not output.options().quiet  # outside a command: the defaults
    output.note(f"skipped {name}: not audio")
    output.warn(f"warning: {name} is empty")
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 2 and "\x1b" not in err and "\r" not in err
