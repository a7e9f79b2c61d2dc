from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest

from percmusic_cli.datasets.archive import is_archive, safe_extract
from percmusic_cli.errors import DataError


def _add(tar: tarfile.TarFile, name: str, data: bytes = b"", kind: bytes = tarfile.REGTYPE,
         link: str = "") -> None:  # fmt: skip
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)


@pytest.fixture
def hostile_tar(tmp_path: Path) -> Path:
    path = tmp_path / "genres.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        _add(tar, "genres", kind=tarfile.DIRTYPE)
        _add(tar, "genres/blues/blues.00000.au", b"a" * 100)
        _add(tar, "./genres/rock/rock.00000.au", b"b" * 50)
        _add(tar, "/etc/evil", b"x")
        _add(tar, "genres/../../evil", b"x")
        _add(tar, "genres/link", kind=tarfile.SYMTYPE, link="/etc/passwd")
        _add(tar, "genres/hard", kind=tarfile.LNKTYPE, link="genres/blues/blues.00000.au")
        _add(tar, "genres/dev", kind=tarfile.CHRTYPE)
        _add(tar, "genres/fifo", kind=tarfile.FIFOTYPE)
        _add(tar, "genres/big.au", b"c" * 5000)
        _add(tar, "genres/blues/blues.00000.au", b"d" * 100)
    return path


def test_only_safe_regular_files_are_extracted(tmp_path: Path, hostile_tar: Path) -> None:
    target = tmp_path / "out"
    problems = safe_extract(hostile_tar, target, max_member_bytes=1000)
    files = sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file())
    assert files == ["genres/blues/blues.00000.au", "genres/rock/rock.00000.au"]
    assert (target / "genres/blues/blues.00000.au").read_bytes() == b"a" * 100
    reasons = {p.path: p.reason for p in problems}
    assert "absolute" in reasons["/etc/evil"]
    assert "'..'" in reasons["genres/../../evil"]
    assert "links" in reasons["genres/link"] and "links" in reasons["genres/hard"]
    assert "not a regular file" in reasons["genres/dev"]
    assert "not a regular file" in reasons["genres/fifo"]
    assert "member limit" in reasons["genres/big.au"]
    assert len(problems) == 8  # the seven above plus the duplicate member
    assert not (tmp_path / "evil").exists()
    assert not list(target.rglob(".*partial*"))


def test_rerun_is_idempotent_and_does_not_rewrite(tmp_path: Path, hostile_tar: Path) -> None:
    target = tmp_path / "out"
    first = safe_extract(hostile_tar, target, max_member_bytes=1000)
    kept = target / "genres/rock/rock.00000.au"
    os.utime(kept, (1, 1))
    assert safe_extract(hostile_tar, target, max_member_bytes=1000) == first
    assert kept.stat().st_mtime == 1  # identical content: skipped, not rewritten
    kept.write_bytes(b"changed")
    safe_extract(hostile_tar, target, max_member_bytes=1000)
    assert kept.read_bytes() == b"b" * 50


def test_total_limit_stops_extraction(tmp_path: Path, hostile_tar: Path) -> None:
    with pytest.raises(DataError, match=r"extraction stopped: it would expand past") as err:
        safe_extract(hostile_tar, tmp_path / "out", max_total_bytes=120)
    assert "\n" not in str(err.value) and str(hostile_tar) in str(err.value)
    assert (tmp_path / "out/genres/blues/blues.00000.au").exists()
    assert not (tmp_path / "out/genres/rock/rock.00000.au").exists()


def test_symlink_already_in_target_is_not_followed(tmp_path: Path, hostile_tar: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    target = tmp_path / "out"
    (target / "genres").mkdir(parents=True)
    os.symlink(outside, target / "genres" / "rock")
    problems = safe_extract(hostile_tar, target, max_member_bytes=1000)
    assert list(outside.iterdir()) == []
    assert any(p.path.endswith("rock.00000.au") and "outside" in p.reason for p in problems)


def test_truncated_archive_keeps_whole_files_only(tmp_path: Path) -> None:
    path = tmp_path / "t.tar"
    with tarfile.open(path, "w") as tar:
        _add(tar, "a/one.wav", b"1" * 2048)
        _add(tar, "a/two.wav", os.urandom(64 * 1024))
    raw = path.read_bytes()
    path.write_bytes(raw[: 512 * 3 + 512 + 20000])  # cut inside the second member
    problems = safe_extract(path, tmp_path / "out")
    assert (tmp_path / "out/a/one.wav").read_bytes() == b"1" * 2048
    assert not (tmp_path / "out/a/two.wav").exists()
    assert not list((tmp_path / "out").rglob(".*partial*"))
    assert len(problems) == 1 and "unreadable" in problems[0].reason


def test_not_an_archive(tmp_path: Path) -> None:
    path = tmp_path / "x.tar.gz"
    path.write_bytes(b"hello")
    assert is_archive(path)
    assert not is_archive(tmp_path / "missing.tar")
    with pytest.raises(DataError, match="not a readable tar archive"):
        safe_extract(path, tmp_path / "out")
