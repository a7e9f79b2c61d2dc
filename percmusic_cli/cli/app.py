"""The `percmusic` command: global options, command registration, exit codes.

Exit codes: 0 success, 1 usage error, 2 data or store error (one line on stderr; the
traceback only with --debug)."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Sequence
from typing import Annotated, Any

import typer

# typer vendors Click privately (no `click` dependency): pyproject pins the tested range.
from typer._click import core as click_core
from typer._click import exceptions as click_exc
from typer._click import utils as click_utils
from typer.core import TyperGroup

from percmusic_cli import __version__, api
from percmusic_cli.cli import (
    check,
    classify,
    compare,
    dashboard,
    distances,
    features,
    figures,
    filter_split,
    ingest,
    knn,
    limits,
    metrics,
    remove,
    reproduce,
    results,
    status,
    train,
)
from percmusic_cli.cli.entry import COMPLETE_IDS, complete_ids
from percmusic_cli.cli.state import GlobalOptions
from percmusic_cli.errors import PercmusicError
from percmusic_cli.render.safe import shown


class _Interrupted(Exception):
    """Ctrl-C or SIGTERM, carried past Typer, which turns KeyboardInterrupt into a silent 130."""


class PercmusicGroup(TyperGroup):
    """Maps errors to exit codes for the console script and for CliRunner alike."""

    def invoke(self, ctx: click_core.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt as exc:
            raise _Interrupted from exc

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        opts = GlobalOptions()  # this invocation's; the root callback fills it
        _sigterm_as_interrupt()
        try:
            code = super().main(
                args=args,
                prog_name=prog_name,
                complete_var=complete_var,
                windows_expand_args=windows_expand_args,
                standalone_mode=False,
                obj=opts,
                **extra,
            )
        except click_exc.NoArgsIsHelpError as exc:
            click_utils.echo(exc.ctx.get_help() if exc.ctx else "", err=False)
            code = 0
        except click_exc.NoSuchOption as exc:
            hint = _misplaced_global(exc)
            if hint is None:
                exc.show()
            else:
                click_utils.echo(f"error: {hint}", err=True)
            code = 1
        except click_exc.UsageError as exc:
            exc.show()
            code = 1
        except click_exc.ClickException as exc:
            exc.show()
            code = 1
        except (typer.Abort, KeyboardInterrupt, _Interrupted):
            click_utils.echo(_interrupted_line(opts), err=True)
            code = 130
        except PercmusicError as exc:
            if opts.debug:
                raise
            click_utils.echo(f"error: {shown(exc)}", err=True)
            code = exc.exit_code
        except Exception as exc:
            if opts.debug:
                raise
            if limits.out_of_memory(exc):
                step = limits.step_name(sys.argv[1:] if args is None else args, list(self.commands))
                click_utils.echo(f"error: {limits.memory_line(step)}", err=True)
                sys.exit(2)
            click_utils.echo(
                f"internal error: {type(exc).__name__}: {shown(exc)} "
                "(rerun with --debug for the traceback)",
                err=True,
            )
            code = 2
        finally:
            _close(opts)
        sys.exit(code if isinstance(code, int) else 0)


def _close(opts: GlobalOptions) -> None:
    """Stop the session's workers (a LocalCluster, Slurm jobs); a cluster already gone is
    not the command's failure."""
    if opts.session is not None:
        opts.session.close()
        opts.session = None


def _interrupted_line(opts: GlobalOptions | None = None) -> str:
    """One line: what the stopped command kept, and that a rerun resumes from there."""
    session = opts.session if opts is not None else None
    what = session.last_kept() if session is not None else None
    if what is None:
        return "interrupted: nothing was finished yet; rerun the same command to start again"
    return f"interrupted: {what}; rerun the same command to resume"


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _sigterm_as_interrupt() -> None:
    """SIGTERM (a `kill`, a job scheduler's stop) ends a command as Ctrl-C does: atomic
    writes unwind, and the same one line says what was kept."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _raise_interrupt)


GLOBAL_OPTIONS = (
    "--store",
    "--wait",
    "--debug",
    "--quiet",
    "-q",
    "--version",
    "--scheduler",
    "--memory-budget",
    "--wait-workers",
)


def _misplaced_global(exc: click_exc.NoSuchOption) -> str | None:
    """`percmusic status --store X`: say where a global option goes instead of Click's
    "No such option" with its misleading suggestions."""
    name = exc.option_name
    ctx = exc.ctx
    if name not in GLOBAL_OPTIONS or ctx is None or ctx.parent is None:
        return None
    command = " ".join(ctx.command_path.split()[1:])
    return (
        f"{name} is a global option: put it before the command, "
        f"e.g. `percmusic {name} ... {command}`"
    )


app = typer.Typer(
    cls=PercmusicGroup,
    name="percmusic",
    help="Perceptual metrics (MSE, 1 - MS-SSIM, NLPD) for music genre classification.\n\n"
    "Example: percmusic demo",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"percmusic {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
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
    scheduler: Annotated[
        str,
        typer.Option(
            "--scheduler",
            help="Where distance tiles and training runs go: local (default), dask (a "
            "LocalCluster here), slurm (Slurm jobs through dask-jobqueue; settings from "
            "jobqueue.slurm.* or DASK_JOBQUEUE__SLURM__*), tcp://HOST:PORT or a scheduler "
            "file (a Dask cluster whose workers see the store folder). Needs "
            "percmusic[dask] unless local. Example: percmusic --scheduler dask distances",
            envvar="PERCMUSIC_SCHEDULER",
            show_envvar=False,
        ),
    ] = "local",
    memory_budget: Annotated[
        str | None,
        typer.Option(
            "--memory-budget",
            help="Dense distance blocks a step may hold (default 2GB); past it KNN streams a "
            "per-row top-k instead. Example: percmusic --memory-budget 500MB knn",
            envvar="PERCMUSIC_MEMORY_BUDGET",
            show_envvar=False,
        ),
    ] = None,
    wait_workers: Annotated[
        float,
        typer.Option(
            "--wait-workers",
            help="Seconds to wait for a cluster's first worker (Slurm jobs to start, a "
            "scheduler to answer) and for a worker while none is left; then one line says "
            "what was kept. Example: percmusic --scheduler slurm --wait-workers 300 train",
            min=1,
        ),
    ] = 60.0,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """Perceptual metrics (MSE, 1 - MS-SSIM, NLPD) for music genre classification.

    Example: percmusic --store ./store demo
    """
    from percmusic_cli.cli.output import RichReporter

    opts = ctx.ensure_object(GlobalOptions)
    opts.store, opts.wait, opts.debug, opts.quiet = store, wait, debug, quiet
    opts.session = api.session(
        api.open_store(store, create=False),  # only ingest and demo may create it
        RichReporter(),
        scheduler=scheduler,
        memory_budget=memory_budget,
        wait_workers=wait_workers,
    )


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
    remove,
    figures,
):
    _module.register(app)


@app.command(COMPLETE_IDS, hidden=True)
def _complete_ids(
    kind: Annotated[str, typer.Argument()],
    store: Annotated[str, typer.Argument()] = "",
) -> None:
    """Stored run or model ids for shell completion (the console script answers this
    before importing the app; this copy serves `python -m` and older installs).

    Example:

      percmusic __complete-ids runs ./store
    """
    raise typer.Exit(complete_ids([kind, store]))


def main() -> None:
    app()
