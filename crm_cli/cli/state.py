"""What the root callback hands every subcommand: the configuration, loaded once."""

from __future__ import annotations

from dataclasses import dataclass, field

import typer

from crm_cli.settings import Settings, load_settings


@dataclass
class CliState:
    config_path: str | None = None
    _settings: Settings | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.config_path)
        return self._settings


def settings_of(ctx: typer.Context) -> Settings:
    state = ctx.find_object(CliState)
    if state is None:  # a command invoked without the root callback (never from the CLI)
        state = CliState()
    return state.settings
