"""``crm-cli queue``: look at queue items and act on them."""

from __future__ import annotations

import datetime as dt

import typer

from crm_cli.cli.options import MAX_ID, TIME_WINDOW_HELP, moment_of
from crm_cli.cli.render import out, out_json, table
from crm_cli.cli.state import settings_of, state_of
from crm_cli.errors import UsageError
from crm_cli.states import LogStatus, QueueStatus

app = typer.Typer(
    name="queue",
    help="Look at queue items and act on them: list, show, retry, cancel.",
    no_args_is_help=True,
)

IDS = typer.Argument(None, min=1, max=MAX_ID, help="Queue item ids.", show_default=False)


def _short(text: object, size: int | None = 60) -> str:
    """One line of ``text``, its first ``size`` characters (None: all of it)."""
    value = "" if text is None else str(text).replace("\n", " ")
    return value if size is None or len(value) <= size else value[: size - 1] + "…"


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
    since: str | None = typer.Option(
        None, "--since", metavar="WHEN", help=f"Queued then or later ({TIME_WINDOW_HELP})."
    ),
    until: str | None = typer.Option(
        None, "--until", metavar="WHEN", help="Queued then or earlier (a day: all of it)."
    ),
    wide: bool = typer.Option(False, "--wide", help="The whole error, not its first words."),
    as_json: bool = typer.Option(False, "--json", help="Every column, as a JSON list."),
) -> None:
    """List queue items, newest first.

    Example: crm-cli queue list --status failed --since 2026-12-01 --wide
    """
    from crm_cli.engine.queue.admin import list_items

    statuses = [s.value for s in QueueStatus]
    if status is not None and status not in statuses:
        raise UsageError(f"--status must be one of {', '.join(statuses)} (got '{status}')")
    items = list_items(
        state_of(ctx).database,
        status=status,
        id_loja=loja,
        entidade=entity,
        limit=limit,
        since=moment_of(since, "--since"),
        until=moment_of(until, "--until", end_of_day=True),
    )
    if as_json:
        out_json([{k: v for k, v in i.items() if k != "lease_owner"} for i in items])
        return
    size = None if wide else 60
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
                _short(_reason(i), size),
            ]
            for i in items
        ],
    )


@app.command("show")
def show(
    ctx: typer.Context,
    item_id: int = typer.Argument(..., min=1, max=MAX_ID, help="Queue item id."),
    as_json: bool = typer.Option(False, "--json", help="The item and its log, as JSON."),
) -> None:
    """Show one item, and the log history of its record. Each time says its clock:
    the PHP application's (criado_em, processado_em, proximo_retry) or UTC.

    Example: crm-cli queue show 1234
    """
    from crm_cli.db.clock import APP_CLOCK_COLUMNS
    from crm_cli.engine.queue.admin import get_item
    from crm_cli.engine.synclog import entries

    database = state_of(ctx).database
    item = {k: v for k, v in get_item(database, item_id).items() if k != "lease_owner"}
    history = entries(
        database,
        id_loja=item["id_loja"],
        entidade=item["entidade"],
        id_registro=item["id_registro"] or 0,
        limit=20,
    )
    if as_json:
        out_json({"item": item, "log": history})
        return
    php_clock = f"PHP clock, {settings_of(ctx).app_time_zone}"
    for key, value in item.items():
        clock = ""
        if isinstance(value, dt.datetime):
            clock = f" ({php_clock})" if key in APP_CLOCK_COLUMNS else " (UTC)"
        out(f"{key}: {'' if value is None else value}{clock}")
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
    """Put failed (or waiting) items back to pending now, with their attempts reset.

    Example: crm-cli queue retry --failed --entity cliente
    """
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
    """Cancel pending or failed items (soft delete: deletado_em is set).

    Example: crm-cli queue cancel 1236 1237
    """
    from crm_cli.engine.queue.admin import cancel as cancel_items

    done = cancel_items(state_of(ctx).database, item_ids)
    out(f"{len(done)} item(s) cancelled: {', '.join(map(str, done))}")
