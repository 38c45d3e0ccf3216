"""Every subcommand module registers itself on the root app when imported."""

from crm_cli.cli.commands import config, migrate, operations, providers, queue, sync  # noqa: F401
