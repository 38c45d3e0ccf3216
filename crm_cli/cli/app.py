"""The root command and its global options; every command module joins it here.

Each module of ``crm_cli.cli.commands`` holds one small Typer app for one
command (or one command group); this module imports them and nothing imports
this module back. Errors become exit codes in ``crm_cli.cli.reporting``.
"""

from __future__ import annotations

import typer

from crm_cli import __version__
from crm_cli.cli.commands import (
    check,
    cleanup,
    config,
    demo,
    emulator,
    enqueue,
    full_sync,
    importing,
    logs,
    migrate,
    pull,
    queue,
    schedules,
    stats,
    sync,
    test_connection,
)
from crm_cli.cli.reporting import PROG, CrmGroup, set_verbose
from crm_cli.cli.state import CliState

app = typer.Typer(
    cls=CrmGroup,
    name=PROG,
    help=(
        "Keep the ERP's clients, products, sales and activities in sync with "
        "GestãoClick, Pipedrive and Bling. From cron: `crm-cli sync` every minute, "
        "`crm-cli pull` every 5 minutes (crontab.example); `crm-cli check` says it is alive."
    ),
    epilog=(
        "Exit codes: 0 ok; 1 runtime failure (database, provider, stored data); "
        "2 bad arguments or configuration."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,  # locals would show decrypted credentials
    add_completion=True,  # --install-completion, --show-completion
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        print(f"{PROG} {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    config_path: str | None = typer.Option(
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
    set_verbose(verbose)
    ctx.obj = CliState(config_path=config_path)


# In the order `crm-cli --help` lists them: set up, then the cron jobs, then looking at it.
for module in (
    migrate,
    config,
    test_connection,
    enqueue,
    sync,
    full_sync,
    pull,
    schedules,
    importing,
    cleanup,
    stats,
    check,
    queue,
    logs,
    demo,
    emulator,
):
    app.add_typer(module.app)


def main() -> None:
    """Console-script entry point (``crm-cli``)."""
    from typer.main import get_command

    CliState.own_process = True
    get_command(app).main(prog_name=PROG)
