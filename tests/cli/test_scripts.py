"""The CLI in scripts and logs: plain progress lines, untruncated tables, `-h`, global
options given after the command, and a dashboard that refuses to run without a terminal."""

from __future__ import annotations

import io

import pytest
from rich.console import Console
from rich.table import Table
from typer.testing import CliRunner

from percmusic_cli.cli import output
from percmusic_cli.cli.app import app
from percmusic_cli.progress import Labelled, NullReporter


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_log_task_writes_plain_lines_every_few_seconds() -> None:
    stream, clock = io.StringIO(), Clock()
    task = output.LogTask("train nlpd", 1500, "steps", stream, every=5.0, clock=clock)
    for step in range(1, 351):
        clock.now += 0.5  # 2 steps/s; a line every 10 steps
        task.advance(1, info=f"loss {1 / step:.3f}")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 35  # one line per 5 s over 175 s, not one per step
    assert lines[0] == "train nlpd: 10/1500 steps, 2 steps/s, ETA 12 min, loss 0.100"
    assert lines[-1] == "train nlpd: 350/1500 steps, 2 steps/s, ETA 10 min, loss 0.003"
    task.close()
    assert len(stream.getvalue().splitlines()) == 36  # and one at the end
    assert "\x1b" not in stream.getvalue()


def test_log_task_rate_ignores_resumed_steps() -> None:
    stream, clock = io.StringIO(), Clock()
    task = output.LogTask("train mse", 100, "steps", stream, every=1e9, clock=clock)
    task.advance(50)  # resumed from a checkpoint at step 50
    clock.now += 10
    task.advance(10)
    task.close()
    assert stream.getvalue() == "train mse: 60/100 steps, 1 steps/s, ETA 40 s\n"


def test_reporter_logs_lines_when_stderr_is_not_a_terminal() -> None:
    # CliRunner and pytest both replace stderr with a non-terminal stream.
    task = output.RichReporter().task("features gtzan", 10, "tracks")
    assert isinstance(task, output.LogTask)


def test_labelled_reporter_names_the_block() -> None:
    seen: list[str] = []

    class Spy(NullReporter):
        def task(self, description: str, total: int | None, unit: str = "items") -> object:
            seen.append(description)
            return super().task(description, total, unit)

    Labelled(Spy(), "valid x train").task("nlpd distances", 4, "pairs")
    assert seen == ["nlpd distances valid x train"]


def test_tables_to_a_pipe_are_never_truncated(monkeypatch: pytest.MonkeyPatch) -> None:
    buffer = io.StringIO()
    monkeypatch.setattr(output, "out", Console(file=buffer, width=40, soft_wrap=False))
    table = Table("run", "test F1", "valid F1", "accuracy")
    table.add_row("knn-nlpd-0123456789abcdef", "0.00712345678", "0.123456789", "0.987654321")
    output.show(table)
    text = buffer.getvalue()
    for cell in ("knn-nlpd-0123456789abcdef", "0.00712345678", "0.123456789", "0.987654321"):
        assert cell in text
    assert "…" not in text


def test_dash_h_is_help_everywhere() -> None:
    runner = CliRunner()
    for args in ([], ["results"], ["results", "show"], ["distances", "stats"]):
        short, long = runner.invoke(app, [*args, "-h"]), runner.invoke(app, [*args, "--help"])
        assert short.exit_code == long.exit_code == 0
        assert short.stdout == long.stdout and "Usage:" in short.stdout


@pytest.mark.parametrize("option", ["--store", "--wait", "--debug"])
def test_global_option_after_the_command_says_where_it_goes(option: str) -> None:
    result = CliRunner().invoke(app, ["status", option, "x"])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"error: {option} is a global option: put it before the command, "
        f"e.g. `percmusic {option} ... status`"
    ]


def test_unknown_option_still_gets_clicks_message() -> None:
    result = CliRunner().invoke(app, ["status", "--nope"])
    assert result.exit_code == 1 and "No such option: --nope" in result.stderr


def test_dashboard_without_a_terminal_exits_1_with_one_line(tmp_path: object) -> None:
    result = CliRunner().invoke(app, ["--store", str(tmp_path), "dashboard"])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "error: dashboard needs a terminal: stdin and stdout must not be redirected"
    ]
