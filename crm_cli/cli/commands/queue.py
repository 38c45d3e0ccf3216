"""``crm-cli queue``: look at queue items and act on them."""

from __future__ import annotations

import typer

from crm_cli.cli.options import MAX_ID
from crm_cli.cli.render import out, table
from crm_cli.cli.state import state_of
from crm_cli.errors import UsageError
from crm_cli.states import LogStatus, QueueStatus

app = typer.Typer(
    name="queue",
    help="Look at queue items and act on them: list, show, retry, cancel.",
    no_args_is_help=True,
)

IDS = typer.Argument(None, min=1, max=MAX_ID, help="Queue item ids.", show_default=False)


def _short(text: object, size: int = 60) -> str:
    value = "" if text is None else str(text).replace("\n", " ")
    return value if len(value) <= size else value[: size - 1] + "…"


def _reason(item: dict) -> object:
    """The item's error, or why it waits (for its store) when it does."""
    from crm_cli.engine.queue import PARKED

    waiting = item.get("erro_mensagem") or ""
    pending = item["status"] == QueueStatus.PENDING
    return waiting if pending and waiting.startswith(PARKED) else item["erro"]


@app.command("list")
def list_(
    ctx: typer.Context,
    status: str | None = typer.Option(
        None, "--status", help="pending, processing, completed or failed."
    ),
    loja: int | None = typer.Option(None, "--loja", min=1, max=MAX_ID, help="Only this store."),
    entity: str | None = typer.Option(None, "--entity", help="Only this entity."),
    limit: int = typer.Option(50, "--limit", min=1, max=10000, help="Newest N items."),
) -> None:
    """List queue items, newest first."""
    from crm_cli.engine.queue.admin import list_items

    statuses = [s.value for s in QueueStatus]
    if status is not None and status not in statuses:
        raise UsageError(f"--status must be one of {', '.join(statuses)} (got '{status}')")
    items = list_items(
        state_of(ctx).database, status=status, id_loja=loja, entidade=entity, limit=limit
    )
    table(
        "crm_sync_queue",
        [
            "id",
            "loja",
            "entidade",
            "id_registro",
            "direcao",
            "status",
            "tentativas",
            "prioridade",
            "proximo_retry",
            "erro",
        ],
        [
            [
                i["id"],
                i["id_loja"],
                i["entidade"],
                i["id_registro"],
                i["direcao"],
                i["status"],
                i["tentativas"],
                i["prioridade"],
                i["proximo_retry"],
                _short(_reason(i)),
            ]
            for i in items
        ],
    )


@app.command("show")
def show(
    ctx: typer.Context, item_id: int = typer.Argument(..., min=1, max=MAX_ID, help="Queue item id.")
) -> None:
    """Show one item, and the log history of its record."""
    from crm_cli.engine.queue.admin import get_item
    from crm_cli.engine.synclog import entries

    item = get_item(state_of(ctx).database, item_id)
    for key, value in item.items():
        if key not in ("lease_owner",):
            out(f"{key}: {'' if value is None else value}")
    history = entries(
        state_of(ctx).database,
        id_loja=item["id_loja"],
        entidade=item["entidade"],
        id_registro=item["id_registro"] or 0,
        limit=20,
    )
    out("")
    table(
        "log of this record",
        ["criado_em", "direcao", "status", "mensagem"],
        [[r["criado_em"], r["direcao"], r["status"], r["mensagem"]] for r in history],
    )


@app.command("retry")
def retry(
    ctx: typer.Context,
    item_ids: list[int] | None = IDS,
    failed: bool = typer.Option(False, "--failed", help="Every failed item (of --loja/--entity)."),
    loja: int | None = typer.Option(
        None, "--loja", min=1, max=MAX_ID, help="With --failed: this store."
    ),
    entity: str | None = typer.Option(None, "--entity", help="With --failed: this entity."),
) -> None:
    """Put failed (or waiting) items back to pending now, with their attempts reset."""
    from crm_cli.engine.queue.admin import retry as retry_items
    from crm_cli.engine.synclog import write_log

    if item_ids and failed:
        raise UsageError("give item ids or --failed, not both")
    if not item_ids and not failed:
        raise UsageError("name the items to retry (IDs), or use --failed")
    if (loja is not None or entity) and not failed:
        raise UsageError("--loja and --entity go with --failed")
    database = state_of(ctx).database
    chosen = retry_items(database, item_ids or (), failed=failed, id_loja=loja, entidade=entity)
    from crm_cli.engine.queue.admin import get_item

    for item_id in chosen:
        item = get_item(database, item_id)
        write_log(
            database,
            id_loja=item["id_loja"],
            entidade=item["entidade"],
            id_registro=item["id_registro"],
            direcao=item["direcao"],
            status=LogStatus.ALERTA,
            mensagem=f"item #{item_id}: retried by an operator (attempts reset)",
        )
    out(
        f"{len(chosen)} item(s) back to pending"
        + (f": {', '.join(map(str, chosen))}" if chosen else "")
    )


@app.command("cancel")
def cancel(
    ctx: typer.Context,
    item_ids: list[int] = typer.Argument(..., min=1, max=MAX_ID, help="Item ids."),
) -> None:
    """Cancel pending or failed items (soft delete: deletado_em is set)."""
    from crm_cli.engine.queue.admin import cancel as cancel_items

    done = cancel_items(state_of(ctx).database, item_ids)
    out(f"{len(done)} item(s) cancelled: {', '.join(map(str, done))}")
