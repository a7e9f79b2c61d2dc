"""The `percmusic` command: global options, command registration, exit codes.

Exit codes: 0 success, 1 usage error, 2 data or store error (one line on stderr; the
traceback only with --debug)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Annotated, Any

import typer
from typer._click import exceptions as click_exc
from typer._click import utils as click_utils
from typer.core import TyperGroup

from percmusic_cli import __version__
from percmusic_cli.cli import (
    check,
    classify,
    compare,
    dashboard,
    distances,
    features,
    filter_split,
    ingest,
    knn,
    metrics,
    reproduce,
    results,
    status,
    train,
)
from percmusic_cli.cli.state import OPTIONS
from percmusic_cli.errors import PercmusicError
from percmusic_cli.render.safe import shown


class PercmusicGroup(TyperGroup):
    """Maps errors to exit codes for the console script and for CliRunner alike."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        try:
            code = super().main(
                args=args,
                prog_name=prog_name,
                complete_var=complete_var,
                windows_expand_args=windows_expand_args,
                standalone_mode=False,
                **extra,
            )
        except click_exc.NoArgsIsHelpError as exc:
            click_utils.echo(exc.ctx.get_help() if exc.ctx else "", err=False)
            code = 0
        except click_exc.UsageError as exc:
            exc.show()
            code = 1
        except click_exc.ClickException as exc:
            exc.show()
            code = 1
        except (typer.Abort, KeyboardInterrupt):
            click_utils.echo("interrupted: what was finished is saved; rerun to resume", err=True)
            code = 130
        except PercmusicError as exc:
            if OPTIONS.debug:
                raise
            click_utils.echo(f"error: {shown(exc)}", err=True)
            code = exc.exit_code
        except Exception as exc:
            if OPTIONS.debug:
                raise
            click_utils.echo(
                f"internal error: {type(exc).__name__}: {shown(exc)} "
                "(rerun with --debug for the traceback)",
                err=True,
            )
            code = 2
        sys.exit(code if isinstance(code, int) else 0)


app = typer.Typer(
    cls=PercmusicGroup,
    name="percmusic",
    help="Perceptual metrics (MSE, 1 - MS-SSIM, NLPD) for music genre classification.\n\n"
    "Example: percmusic demo",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"percmusic {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    store: Annotated[
        str | None,  # a str, not a Path: Path("") would turn an empty --store into "."
        typer.Option(
            "--store",
            help="Store folder (default: $PERCMUSIC_STORE, else ./store).",
            envvar="PERCMUSIC_STORE",
            show_envvar=False,
        ),
    ] = None,
    wait: Annotated[
        float,
        typer.Option(
            "--wait",
            help="Seconds to wait for another writer to finish (default: fail fast).",
            min=0,
        ),
    ] = 0.0,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """Perceptual metrics (MSE, 1 - MS-SSIM, NLPD) for music genre classification.

    Example: percmusic --store ./store demo
    """
    OPTIONS.store, OPTIONS.wait, OPTIONS.debug, OPTIONS.quiet = store, wait, debug, quiet


for _module in (
    ingest,
    filter_split,
    features,
    status,
    distances,
    knn,
    metrics,
    train,
    classify,
    results,
    compare,
    reproduce,
    dashboard,
    check,
):
    _module.register(app)


def main() -> None:
    app()
