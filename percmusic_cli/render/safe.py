"""User-supplied strings (labels, paths, names, messages) made safe for a terminal.

One helper for the CLI and the dashboard: control characters (ESC sequences, newlines,
carriage returns, bells) are shown as \\xNN, so a file name cannot move the cursor, recolour
the terminal or split a table row; and markup is never read in them, so `[/]` in a path
cannot crash a render and a label `[jazz]` is shown, not swallowed as a style.

`text` (a Rich Text, which neither Rich nor Textual parses) is the helper for every place
that shows a stored name: a table cell, a Static, a tab label, a title. `markup` is only
for a string that Rich itself will parse (a progress-bar field): Textual's markup parser
differs from Rich's, and no escaped string reads the same in both (`[/a[` breaks
Textual's even when escaped), so Textual is never handed a user's text as markup."""

from __future__ import annotations

import re

from rich.markup import escape
from rich.text import Text

# C0 controls, DEL and C1 controls (0x9b is a one-byte CSI on some terminals).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_NEWLINE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")


def shown(value: object, keep_newlines: bool = False) -> str:
    """`value` as text with every control character written as \\xNN (newlines kept only
    when asked: a message of several paragraphs that we wrote, not a user's name)."""
    pattern = _CONTROL_BUT_NEWLINE if keep_newlines else _CONTROL
    return pattern.sub(lambda m: f"\\x{ord(m.group()):02x}", str(value))


def markup(value: object, keep_newlines: bool = False) -> str:
    """`value` for a place that parses Rich markup (never Textual's): controls shown,
    brackets escaped."""
    return escape(shown(value, keep_newlines))


def text(value: object, style: str = "", keep_newlines: bool = False) -> Text:
    """`value` as a Rich Text (never parsed as markup), control characters shown: for a
    table cell or a widget that would otherwise read a plain string as markup."""
    return Text(shown(value, keep_newlines), style=style)


def title(value: object) -> Text:
    """A table title from user text: as `text`, in the style Rich gives a plain-string
    title (a Text title is not restyled by the table)."""
    return Text(shown(value), style="table.title")
