"""``crm-cli logs``: crm_sync_log rows by record, or the errors."""

from __future__ import annotations

import typer

from crm_cli.cli.options import MAX_ID, TIME_WINDOW_HELP, moment_of
from crm_cli.cli.render import out_json, table
from crm_cli.cli.state import state_of
from crm_cli.errors import UsageError

app = typer.Typer()


@app.command()
def logs(
    ctx: typer.Context,
    loja: int | None = typer.Option(None, "--loja", min=1, max=MAX_ID, help="Only this store."),
    entity: str | None = typer.Option(None, "--entity", help="Only this entity."),
    record_id: int | None = typer.Option(
        None, "--id", min=1, max=MAX_ID, help="Only this record (with --entity)."
    ),
    errors: bool = typer.Option(False, "--errors", help="Only errors."),
    limit: int = typer.Option(50, "--limit", min=1, max=10000, help="Newest N rows."),
    since: str | None = typer.Option(
        None, "--since", metavar="WHEN", help=f"Written then or later ({TIME_WINDOW_HELP})."
    ),
    until: str | None = typer.Option(
        None, "--until", metavar="WHEN", help="Written then or earlier (a day: all of it)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Every column, as a JSON list."),
) -> None:
    """Show crm_sync_log rows, newest first: by record, or the errors.

    Example: crm-cli logs --errors --since 2026-12-01 --json
    """
    from crm_cli.engine.synclog import entries

    if record_id is not None and entity is None:
        raise UsageError("--id needs --entity (record ids are per entity)")
    rows = entries(
        state_of(ctx).database,
        id_loja=loja,
        entidade=entity,
        id_registro=record_id,
        errors_only=errors,
        limit=limit,
        since=moment_of(since, "--since"),
        until=moment_of(until, "--until", end_of_day=True),
    )
    if as_json:
        out_json(rows)
        return
    table(
        "crm_sync_log",
        ["criado_em", "loja", "entidade", "id_registro", "direcao", "status", "mensagem"],
        [
            [
                r["criado_em"],
                r["id_loja"],
                r["entidade"],
                r["id_registro"],
                r["direcao"],
                r["status"],
                r["mensagem"],
            ]
            for r in rows
        ],
    )
