"""Options that several commands share, defined once so their name and help stay alike."""

from __future__ import annotations

from typing import Annotated

import typer

AllowDegenerate = Annotated[
    bool,
    typer.Option(
        "--allow-degenerate",
        help="Run even when a test label has no training tracks (refused otherwise, exit 2), "
        "e.g. --allow-degenerate on a partial dataset.",
    ),
]
