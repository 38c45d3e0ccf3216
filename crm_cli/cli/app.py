"""The root command, its global options, and the one place exceptions become exit codes."""

from __future__ import annotations

import os
import sys
import traceback
from typing import Any

import typer
from typer.core import TyperGroup

from crm_cli import __version__
from crm_cli.errors import EXIT_FAILURE, EXIT_OK, CrmError

PROG = "crm-cli"
_verbose = False  # set by the root callback; read when an error is reported


def explain(exc: BaseException) -> tuple[str, int]:
    """What an exception means to the operator (one line) and its exit code."""
    if isinstance(exc, CrmError):
        return exc.message, exc.exit_code
    db_error = _as_database_error(exc)
    if db_error is not None:
        return db_error.message, db_error.exit_code
    return (
        f"internal error: {type(exc).__name__}: {exc} (run with --verbose for the traceback)",
        EXIT_FAILURE,
    )


def report(exc: BaseException) -> int:
    """Print an exception as one line on stderr and return its exit code.

    The only translation of exceptions into exit codes. Tracebacks appear only
    with --verbose: a traceback's locals can hold decrypted credentials.
    """
    if isinstance(exc, typer.Exit):
        return exc.exit_code
    if isinstance(exc, BrokenPipeError) or _stdout_closed(exc):
        # The reader went away (`crm-cli ... | head`): nobody is left to tell.
        _silence_stdout()
        return EXIT_FAILURE
    if isinstance(exc, typer.Abort):
        _say("aborted")
        return EXIT_FAILURE
    if isinstance(exc, typer.TyperException):  # bad arguments, options, values
        ctx = getattr(exc, "ctx", None)
        hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
        _say(f"error: {exc.format_message()}{hint}")
        return exc.exit_code
    if isinstance(exc, KeyboardInterrupt):
        _say("interrupted")
        return 130
    show_traceback(exc)
    message, code = explain(exc)
    _say(message if message.startswith("internal error") else f"error: {message}")
    return code


def _stdout_closed(exc: BaseException) -> bool:
    """Click's own reaction to a closed stdout: SystemExit(1) after an EPIPE."""
    context = exc.__context__
    return isinstance(exc, SystemExit) and isinstance(context, OSError) and context.errno == 32


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so flushing it at exit raises nothing more."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def show_traceback(exc: BaseException) -> None:
    if _verbose:
        traceback.print_exception(exc, file=sys.stderr)


def _as_database_error(exc: BaseException) -> CrmError | None:
    sqlalchemy = sys.modules.get("sqlalchemy")
    if sqlalchemy is None or not isinstance(exc, sqlalchemy.exc.SQLAlchemyError):
        return None
    from crm_cli.db.engine import describe_db_error

    return describe_db_error(exc)


def _say(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr, flush=True)


class CrmGroup(TyperGroup):
    """Runs the command tree and maps whatever escapes it through ``report``."""

    def main(  # type: ignore[override]
        self,
        args: list[str] | None = None,
        prog_name: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        global _verbose
        _verbose = False
        try:
            result = super().main(
                args=args, prog_name=prog_name or PROG, standalone_mode=False, **extra
            )
            code = result if isinstance(result, int) else EXIT_OK
        except BaseException as exc:  # the one place every error is turned into a code
            code = report(exc)
        if standalone_mode:
            sys.exit(code)
        return code


app = typer.Typer(
    cls=CrmGroup,
    name=PROG,
    help=(
        "Keep the ERP's clients, products, sales and activities in sync with "
        "GestãoClick, Pipedrive and Bling. Run `crm-cli sync` from cron every minute."
    ),
    epilog=(
        "Exit codes: 0 ok; 1 runtime failure (database, provider, stored data); "
        "2 bad arguments or configuration; 3 not implemented yet."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,  # locals would show decrypted credentials
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        print(f"{PROG} {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    config: str | None = typer.Option(
        None,
        "--config",
        "-c",
        metavar="PATH",
        help=(
            "YAML configuration file. Default: $CRM_CONFIG, else "
            "~/.config/crm-cli/config.yaml; with none, built-in defaults and the "
            "SQLite file ~/.local/share/crm-cli/crm-cli.sqlite3. "
            "$CRM_DATABASE_URL overrides database.url."
        ),
    ),
    verbose: bool = typer.Option(
        False, "--verbose", "-v", help="Show tracebacks of errors (may include data)."
    ),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    global _verbose
    _verbose = verbose
    from crm_cli.cli.state import CliState

    ctx.obj = CliState(config_path=config)


def main() -> None:
    """Console-script entry point (``crm-cli``)."""
    from typer.main import get_command

    from crm_cli.cli.state import CliState

    CliState.own_process = True
    get_command(app).main(prog_name=PROG)


from crm_cli.cli import commands  # noqa: E402,F401  (registers every subcommand)
