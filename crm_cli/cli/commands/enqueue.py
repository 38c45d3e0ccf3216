"""``crm-cli enqueue``: queue one record for the next sync runs."""

from __future__ import annotations

import typer

from crm_cli.cli.options import DIRECTION_HELP, MAX_ID, check_record_flags, direction_of
from crm_cli.cli.render import out
from crm_cli.cli.state import integracoes_of, settings_of, state_of
from crm_cli.states import Direction

app = typer.Typer()


@app.command()
def enqueue(
    ctx: typer.Context,
    loja: int = typer.Option(..., "--loja", min=1, max=MAX_ID, help="Store id (id_loja)."),
    entity: str = typer.Option(..., "--entity", help="cliente, produto, venda, atividade, …"),
    record_id: int | None = typer.Option(
        None, "--id", min=1, max=MAX_ID, help="The local record's id."
    ),
    external_id: str | None = typer.Option(
        None, "--external-id", help="The CRM's id, for a CRM→ERP item with no local row yet."
    ),
    direction: str = typer.Option(Direction.ERP_TO_CRM.value, "--direction", help=DIRECTION_HELP),
    priority: int = typer.Option(5, "--priority", min=0, max=10, help="0–10, higher first."),
) -> None:
    """Queue one record for the next sync runs.

    A pending item for the same store, entity, record and direction is reused and
    its priority raised, never duplicated (also when two processes enqueue at once).

    Example: crm-cli enqueue --loja 1 --entity cliente --id 42
    """
    from crm_cli.engine.queue import enqueue as enqueue_item
    from crm_cli.services.targets import check_target

    direcao = direction_of(direction)
    check_record_flags(direcao, record_id, external_id)
    database = state_of(ctx).database
    check_target(database, settings_of(ctx), integracoes_of(ctx), loja, entity, record_id)
    done = enqueue_item(
        database,
        id_loja=loja,
        entidade=entity,
        id_registro=record_id,
        direcao=direcao,
        prioridade=priority,
        external_id=external_id,
    )
    verb = "Reused pending item" if done.reused else "Queued item"
    what = f"{entity} {record_id}" if record_id is not None else f"{entity} external {external_id}"
    out(f"{verb} #{done.id}: {what}, {direction}, priority {priority} or higher.")
