"""GTZAN facts shipped as package data: genres, the md5 index of the WAV files, and the
fault-filtered split of Kereliuk, Sturm and Larsen (2015).

The md5 index lists the 1000 WAV conversions (from mirdata's index). The original `.au`
files of `genres.tar.gz` differ byte-wise and are not listed, so `md5_status` answers
"unknown (au original)" for them rather than "mismatch": such a copy is unverifiable,
not altered.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

GENRES: tuple[str, ...] = (
    "blues",
    "classical",
    "country",
    "disco",
    "hiphop",
    "jazz",
    "metal",
    "pop",
    "reggae",
    "rock",
)
SPLITS: tuple[str, ...] = ("train", "valid", "test")
FAULT_FILTERED_SIZES = {"train": 443, "valid": 197, "test": 290}
TRACK_FILE = re.compile(r"^(?P<genre>[a-z]+)\.(?P<number>\d{5})\.(?P<ext>au|wav)$", re.IGNORECASE)


def _data_text(*parts: str) -> str:
    node = resources.files("percmusic_cli.datasets").joinpath("data", *parts)
    return node.read_text(encoding="utf-8")


def _rel_path(audio_path: str) -> str:
    """ "gtzan_genre/genres/blues/blues.00000.wav" -> "blues/blues.00000.wav"."""
    return "/".join(audio_path.replace("\\", "/").split("/")[-2:])


@lru_cache(maxsize=1)
def _md5_index() -> dict[str, str]:
    index: dict[str, str] = {}
    lines = _data_text("gtzan_md5.tsv").splitlines()
    for line in lines[1:]:  # header: track_id, audio_path, md5
        fields = line.split("\t")
        if len(fields) == 3:
            index[_rel_path(fields[1])] = fields[2].strip().lower()
    return index


def md5_index() -> dict[str, str]:
    """rel_path ("blues/blues.00000.wav") -> md5 hex digest, for the 1000 GTZAN WAV files."""
    return dict(_md5_index())


def md5_status(rel_path: str, md5: str) -> str:
    """ "verified", "mismatch", "unknown (au original)" for .au files, or "unknown"."""
    expected = _md5_index().get(_rel_path(rel_path))
    if expected is None:
        return "unknown (au original)" if rel_path.lower().endswith(".au") else "unknown"
    return "verified" if expected == md5.strip().lower() else "mismatch"


def track_id_of(file_name: str) -> str | None:
    """ "blues.00029.wav" -> "blues.00029"; None when the name is not a GTZAN track name."""
    match = TRACK_FILE.match(file_name)
    if match is None:
        return None
    return f"{match['genre'].lower()}.{match['number']}"


@lru_cache(maxsize=1)
def _split() -> dict[str, str]:
    split: dict[str, str] = {}
    for name in SPLITS:
        for line in _data_text("splits", f"{name}_filtered.txt").splitlines():
            track = track_id_of(line.strip().split("/")[-1])
            if track is not None:
                split[track] = name
    return split


def fault_filtered_split() -> dict[str, str]:
    """Track id ("blues.00029") -> "train" | "valid" | "test" for the 930 kept tracks."""
    return dict(_split())
