"""User-supplied strings (labels, paths, names, messages) made safe for a terminal.

One helper for the CLI and the dashboard: control characters (ESC sequences, newlines,
carriage returns, bells) are shown as \\xNN, so a file name cannot move the cursor, recolour
the terminal or split a table row; and Rich/Textual markup is escaped, so `[/]` in a path
cannot crash a render and a label `[jazz]` is shown, not swallowed as a style."""

from __future__ import annotations

import re

from rich.markup import escape
from rich.text import Text

# C0 controls, DEL and C1 controls (0x9b is a one-byte CSI on some terminals).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def shown(value: object) -> str:
    """`value` as text with every control character written as \\xNN."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(value))


def markup(value: object) -> str:
    """`value` for a place that parses Rich/Textual markup: controls shown, brackets escaped."""
    return escape(shown(value))


def text(value: object, style: str = "") -> Text:
    """`value` as a Rich Text (never parsed as markup), control characters shown: for a
    table cell or a widget that would otherwise read a plain string as markup."""
    return Text(shown(value), style=style)
