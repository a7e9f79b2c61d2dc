"""The console script. Shell completion asks for stored ids on every TAB
(`percmusic __complete-ids runs|models [STORE]`); that call is answered here before the
Typer app and its commands are imported, so it costs a DuckDB query, not a CLI start."""

from __future__ import annotations

import sys

COMPLETE_IDS = "__complete-ids"


def complete_ids(args: list[str]) -> int:
    """Print one id per line; nothing (and exit 0) when there is no store to read."""
    from percmusic_cli import api

    if not args:
        return 1
    for ident in api.stored_ids(args[0], args[1] if len(args) > 1 and args[1] else None):
        sys.stdout.write(ident + "\n")
    return 0


def main() -> None:
    if sys.argv[1:2] == [COMPLETE_IDS]:
        sys.exit(complete_ids(sys.argv[2:]))
    from percmusic_cli.cli.app import main as app_main

    app_main()


if __name__ == "__main__":
    main()
