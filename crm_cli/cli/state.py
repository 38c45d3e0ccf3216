"""What the root callback hands every subcommand: configuration and database, opened once."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

import typer

from crm_cli.settings import Settings, load_settings

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from crm_cli.integrations import Integracoes


@dataclass
class CliState:
    config_path: str | None = None
    # Set by the console entry point: this process is crm-cli's own (not a
    # test's in-process call), and may freeze what it has loaded (see database).
    own_process: ClassVar[bool] = False
    _settings: Settings | None = field(default=None, repr=False)
    _database: Engine | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.config_path)
        return self._settings

    @property
    def database(self) -> Engine:
        if self._database is None:
            import gc

            from crm_cli.db.backends import open_database

            say_if_embedded(self.settings)
            self._database = open_database(self.settings.database_url, self.settings.app_time_zone)
            if self.own_process:
                # What is loaded by now (Typer, SQLAlchemy, the dialect) lives
                # as long as the process: spare it the walk of every full
                # collection that later imports (requests, cryptography, the
                # providers) set off. 60-140 ms of a crm-cli start here
                # (bench/README.md). Not in a host process: it would keep
                # that process's uncollected garbage forever.
                gc.freeze()
        return self._database


def say_if_embedded(settings: Settings) -> None:
    """Acting on the embedded SQLite file is a newcomer's choice: under cron, or where a
    system configuration exists that this command did not read, it is rather a
    mistake (a CRM_CONFIG set only in the crontab), and it is said before acting."""
    import sys

    from crm_cli.cli.render import warn

    if not settings.database_is_embedded:
        return
    from crm_cli.settings import default_database_path, system_config_path

    system = system_config_path().exists()
    if sys.stdin.isatty() and sys.stdout.isatty() and not system:
        return
    unread = system and settings.source != str(system_config_path())
    why = f"; {system_config_path()} exists but was not read" if unread else ""
    warn(
        f"using the embedded SQLite database {default_database_path()} (no database.url "
        f"in {settings.source}{why}); point --config or $CRM_CONFIG at the shop's "
        "configuration, or set database.url there"
    )


def state_of(ctx: typer.Context) -> CliState:
    state = ctx.find_object(CliState)
    if state is None:  # a command invoked without the root callback (never from the CLI)
        state = ctx.ensure_object(CliState)
    return state


def settings_of(ctx: typer.Context) -> Settings:
    return state_of(ctx).settings


def integracoes_of(ctx: typer.Context, allow_fallback_key: bool = False) -> Integracoes:
    from crm_cli.credentials import CredentialCipher
    from crm_cli.integrations import Integracoes

    state = state_of(ctx)
    cipher = CredentialCipher.from_settings(state.settings, allow_fallback=allow_fallback_key)
    return Integracoes(state.database, cipher)
