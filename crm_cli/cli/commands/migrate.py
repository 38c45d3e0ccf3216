"""``crm-cli migrate``."""

from __future__ import annotations

import sys

import typer

from crm_cli.cli.render import out, warn
from crm_cli.cli.state import say_if_embedded, settings_of
from crm_cli.errors import UsageError

app = typer.Typer()


@app.command()
def migrate(
    ctx: typer.Context,
    sql: bool = typer.Option(
        False, "--sql", help="Print the DDL for a DBA instead of running it (changes nothing)."
    ),
) -> None:
    """Create or upgrade the CRM tables, and add external_id to the ERP's tables.

    Creates crm_integracoes, crm_sync_queue and crm_sync_log exactly as the PHP
    application's migration does, then adds the queue columns crm-cli needs (all
    with defaults, so the PHP application's INSERTs keep working). A database where
    the PHP application already created the tables is adopted. Each configured
    entity table gets an external_id column and index only where missing. Running
    it again changes nothing.

    Example: crm-cli migrate --sql > upgrade.sql   (for a DBA; or just: crm-cli migrate)
    """
    from crm_cli.db.backends import display_url, parse_url
    from crm_cli.db.migrator import migrate as run_migrate
    from crm_cli.db.migrator import write_migration_sql

    settings = settings_of(ctx)
    if sql:
        if parse_url(settings.database_url).get_backend_name() == "sqlite":
            raise UsageError("--sql is for MySQL/MariaDB; run 'crm-cli migrate' on SQLite directly")
        write_migration_sql(settings, sys.stdout)
        return
    say_if_embedded(settings)
    out(f"Migrating {display_url(settings.database_url)} (configuration: {settings.source})")
    result = run_migrate(settings)
    for warning in result.warnings:
        warn(warning)
    if result.adopted:
        out("Adopted the CRM tables created by the PHP application (stamped revision 0001).")
    for revision in result.applied:
        out(f"Applied revision {revision}")
    for change in result.host_changes:
        out(change)
    where = display_url(settings.database_url)
    if result.changed:
        out(f"Database at revision {result.current_revision} ({where}).")
    else:
        out(f"Nothing to do: {where} is at revision {result.current_revision}, up to date.")
