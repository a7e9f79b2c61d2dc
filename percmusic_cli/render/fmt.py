"""Number and label formatting shared by the tables and plots (no computation)."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

MISSING = "—"


def score(x: float | None, digits: int = 3, na: str = MISSING) -> str:
    """A score in [0, 1] as 0.412; None or NaN as `na` (a dash unless told)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return na
    return f"{x:.{digits}f}"


def with_ci(x: float | None, low: float | None, high: float | None) -> str:
    """'0.412 [0.35, 0.47]', or just the score when the interval is unknown."""
    if low is None or high is None or math.isnan(low) or math.isnan(high):
        return score(x)
    return f"{score(x)} [{low:.2f}, {high:.2f}]"


def param_value(v: float) -> str:
    """k as an integer, C as a short number (0.001, 10, 100)."""
    return str(int(v)) if float(v).is_integer() and abs(v) >= 1 else f"{v:g}"


def quantity(v: Any) -> str:
    """A distance or summary statistic: 3 significant digits, integers as they are."""
    if v is None:
        return MISSING
    if isinstance(v, int):
        return str(v)
    return f"{float(v):.3g}"


def when(v: Any) -> str:
    """A datetime or ISO string as 'YYYY-MM-DD HH:MM'."""
    if v is None:
        return MISSING
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%d %H:%M")
    text = str(v)
    try:
        return datetime.fromisoformat(text).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return text


def abbreviate(labels: list[str], max_len: int) -> list[str]:
    """Labels cut to max_len characters, kept distinct by a numeric suffix where cutting
    makes two equal ("country"/"countryrock" at 5 -> "count", "coun2")."""
    out: list[str] = []
    for lab in labels:
        short = lab[:max_len]
        n = 2
        while short in out:
            suffix = str(n)
            short = lab[: max(1, max_len - len(suffix))] + suffix
            n += 1
        out.append(short)
    return out


def learned(ratio: float | None, flag: bool | None = None) -> str:
    """Final loss / trivial baseline as '0.94 (did not learn)' or '0.41'; a dash if unknown.
    `flag` is the core's verdict (experiments/baseline.py); without it, ratio >= 0.95."""
    if ratio is None or (isinstance(ratio, float) and math.isnan(ratio)):
        return MISSING
    did_not = (not flag) if flag is not None else ratio >= 0.95
    return f"{ratio:.2f}" + (" (did not learn)" if did_not else "")
