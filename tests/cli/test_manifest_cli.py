"""`percmusic ingest --manifest` and `filter --split manifest` through the CLI: exit codes
and the one-line reasons."""

from __future__ import annotations

from pathlib import Path

from clitools import Cli
from trees import SR, tone_clip, write_wav


def _manifest(tmp_path: Path, text: str) -> Path:
    for i in range(4):
        write_wav(tmp_path / "clips" / f"{i}.wav", tone_clip(220.0 * (i + 1), seed=i), SR)
    path = tmp_path / "list.csv"
    path.write_text(text)
    return path


def test_manifest_ingest_reports_bad_rows_and_filters_by_its_split(
    cli: Cli, tmp_path: Path
) -> None:
    text = (
        "path,label,split\n"
        "clips/0.wav,a,train\nclips/1.wav,b,train\nclips/2.wav,a,test\nclips/3.wav,b,val\n"
        "clips/9.wav,a,train\n"
    )
    result = cli("ingest", "--manifest", str(_manifest(tmp_path, text)), "--json")
    assert result.exit_code == 0, result.output
    assert "row 6: no such file" in result.stdout
    split = cli.json("filter", "--split", "manifest")
    assert split["name"] == "manifest"
    assert split["counts"]["train"] == {"a": 1, "b": 1}
    assert split["counts"]["valid"] == {"b": 1}


def test_manifest_usage_and_data_errors(cli: Cli, tmp_path: Path) -> None:
    no_label = _manifest(tmp_path, "path,genre\nclips/0.wav,a\n")
    result = cli("ingest", "--manifest", str(no_label))
    assert result.exit_code == 1
    assert "no 'label' column" in result.stderr and str(no_label) in result.stderr
    assert cli("ingest", "--manifest", str(no_label), "--label-column", "genre").exit_code == 0
    assert cli("ingest", str(tmp_path), "--manifest", str(no_label)).exit_code == 1
    assert cli("ingest", str(tmp_path / "clips"), "--subset", "small").exit_code == 1
    nothing = tmp_path / "none.csv"
    nothing.write_text("path,label\nclips/404.wav,a\n")
    result = cli("ingest", "--manifest", str(nothing), "--dataset", "none")
    assert result.exit_code == 2 and "nothing usable" in result.stderr
