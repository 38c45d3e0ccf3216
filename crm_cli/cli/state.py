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
    cipher = CredentialCipher.from_environment(
        state.settings.credentials_key_env,
        allow_fallback=allow_fallback_key or state.settings.credentials_allow_fallback_key,
    )
    return Integracoes(state.database, cipher)
