"""``crm-cli enqueue`` and ``crm-cli sync``."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import Any

import typer

from crm_cli.cli.app import app, explain, show_traceback
from crm_cli.cli.render import ProgressBar, out
from crm_cli.cli.state import integracoes_of, settings_of, state_of
from crm_cli.errors import EXIT_FAILURE, NotFoundError, UsageError

DIRECTION_HELP = "ecletech_para_crm (ERP → CRM, default) or crm_para_ecletech (CRM → ERP)."


def _direction(value: str) -> str:
    from crm_cli.queue import DIRECTIONS

    if value not in DIRECTIONS:
        raise UsageError(f"--direction must be one of {', '.join(DIRECTIONS)} (got '{value}')")
    return value


def _check_target(
    ctx: typer.Context,
    loja: int,
    entity: str,
    record_id: int | None,
    external_id: str | None,
    direction: str,
) -> None:
    """The store exists, the entity is configured and the record is there (when named)."""
    from crm_cli.entities import EntityTable
    from crm_cli.queue import CRM_TO_ERP

    settings = settings_of(ctx)
    mapping = settings.entity(entity)
    if direction == CRM_TO_ERP and record_id is None and not external_id:
        raise UsageError("a crm_para_ecletech item needs --id or --external-id")
    if direction != CRM_TO_ERP and record_id is None:
        raise UsageError("an ecletech_para_crm item needs --id (the local record's id)")
    if direction != CRM_TO_ERP and external_id:
        raise UsageError("--external-id goes with --direction crm_para_ecletech")
    stores = {s.id_loja for s in integracoes_of(ctx).listar()}
    if loja not in stores:
        raise NotFoundError(f"store {loja} has no CRM configuration (see 'crm-cli config list')")
    if record_id is not None:
        engine = state_of(ctx).engine
        with engine.connect() as conn:
            if EntityTable(engine, mapping).load(conn, record_id) is None:
                raise NotFoundError(f"record {record_id} does not exist in table {mapping.table}")


@app.command()
def enqueue(
    ctx: typer.Context,
    loja: int = typer.Option(..., "--loja", min=1, help="Store id (id_loja)."),
    entity: str = typer.Option(..., "--entity", help="cliente, produto, venda, atividade, …"),
    record_id: int | None = typer.Option(None, "--id", min=1, help="The local record's id."),
    external_id: str | None = typer.Option(
        None, "--external-id", help="The CRM's id, for a CRM→ERP item with no local row yet."
    ),
    direction: str = typer.Option("ecletech_para_crm", "--direction", help=DIRECTION_HELP),
    priority: int = typer.Option(5, "--priority", min=0, max=10, help="0–10, higher first."),
) -> None:
    """Queue one record for the next sync runs.

    A pending item for the same store, entity, record and direction is reused and
    its priority raised, never duplicated (also when two processes enqueue at once).
    """
    from crm_cli.queue import enqueue as enqueue_item

    direction = _direction(direction)
    _check_target(ctx, loja, entity, record_id, external_id, direction)
    done = enqueue_item(
        state_of(ctx).engine,
        id_loja=loja,
        entidade=entity,
        id_registro=record_id,
        direcao=direction,
        prioridade=priority,
        external_id=external_id,
    )
    verb = "Reused pending item" if done.reused else "Queued item"
    what = f"{entity} {record_id}" if record_id is not None else f"{entity} external {external_id}"
    out(f"{verb} #{done.id}: {what}, {direction}, priority {priority} or higher.")


def _now() -> str:
    return datetime.now().strftime("%Y-%m-%d %H:%M:%S")


@app.command()
def sync(
    ctx: typer.Context,
    limit: int | None = typer.Option(
        None, "--limit", min=1, help="Claim at most N items (never more than sync.batch_size, 100)."
    ),
    loja: int | None = typer.Option(None, "--loja", min=1, help="Only this store's items."),
    entity: str | None = typer.Option(None, "--entity", help="Only this entity's items."),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Claim nothing, send nothing: print what would be sent."
    ),
    now: bool = typer.Option(
        False,
        "--now",
        help="Sync one record at once, without the queue (needs --loja, "
        "--entity and --id or --external-id).",
    ),
    record_id: int | None = typer.Option(None, "--id", min=1, help="With --now: the record."),
    external_id: str | None = typer.Option(None, "--external-id", help="With --now: CRM's id."),
    direction: str = typer.Option("ecletech_para_crm", "--direction", help=DIRECTION_HELP),
) -> None:
    """Process at most 100 due queue items and exit: run it from cron every minute.

    Overlapping runs never take the same item. Requests are paced under each
    provider's limit, shared by every run. After a run's time budget
    (sync.time_budget_seconds) the remaining items are handed back for the next run.
    Failed items are retried with backoff, then marked failed (never counted as
    processed). Prints the original's line:
    '[YYYY-MM-DD HH:MM:SS] Processados: N | Erros: N | Tempo: Xs | Taxa: Y req/s'.
    Exit 0 when the run completed (item failures are data), 1 on a fatal error
    ('[…] ERRO: cause').
    """
    try:
        if now:
            _sync_now(ctx, loja, entity, record_id, external_id, _direction(direction))
        elif record_id is not None or external_id is not None:
            raise UsageError("--id and --external-id go with --now")
        elif dry_run:
            _dry_run(ctx, limit, loja, entity)
        else:
            _run(ctx, limit, loja, entity)
    except (typer.Exit, UsageError):
        raise
    except Exception as exc:  # a fatal error: the original's ERRO line, exit 1
        show_traceback(exc)
        message, _code = explain(exc)
        print(f"[{_now()}] ERRO: {message}", file=sys.stderr, flush=True)
        raise typer.Exit(EXIT_FAILURE) from None


def _run(ctx: typer.Context, limit: int | None, loja: int | None, entity: str | None) -> None:
    from crm_cli.sync import SyncRun

    settings = settings_of(ctx)
    if entity is not None:
        settings.entity(entity)
    bar = ProgressBar("sync")
    run = SyncRun(
        state_of(ctx).engine,
        settings,
        on_claim=lambda total: bar.update(0, total),
        on_item=bar.advance,
    )
    try:
        result = run.run(limit=limit, id_loja=loja, entidade=entity)
    finally:
        bar.stop()
    out(result.summary_line(_now()))
    if result.log_errors:
        print(
            f"[{_now()}] ERRO: the sync log could not be written for {len(result.log_errors)} "
            f"item(s), their results were kept: {result.log_errors[0]}",
            file=sys.stderr,
        )
        raise typer.Exit(EXIT_FAILURE)


def _dry_run(ctx: typer.Context, limit: int | None, loja: int | None, entity: str | None) -> None:
    from crm_cli.credentials import mask_secrets
    from crm_cli.queue import ERP_TO_CRM, due_items
    from crm_cli.settings import MAX_BATCH_SIZE
    from providers.registry import get_provider

    settings = settings_of(ctx)
    state = state_of(ctx)
    batch = min(limit or MAX_BATCH_SIZE, settings.sync.batch_size)
    items = due_items(state.engine, batch, loja, entity)
    stores = {s.id_loja: s for s in integracoes_of(ctx).listar()}
    for item in items:
        store = stores.get(item.id_loja)
        prefix = f"#{item.id} loja {item.id_loja} {item.entidade} {item.id_registro or '-'}"
        if store is None or not store.ativo:
            out(f"{prefix}: would fail: store has no active CRM integration")
            continue
        if item.direcao != ERP_TO_CRM:
            out(
                f"{prefix}: would fetch {item.external_id or 'by external_id'} from "
                f"{store.provider} into the ERP"
            )
            continue
        try:
            payload, action = _payload(state.engine, settings, get_provider(store.provider), item)
        except Exception as exc:  # describe, do not stop the preview
            out(f"{prefix}: would fail: {explain(exc)[0]}")
            continue
        out(
            f"{prefix}: would {action} in {store.provider}: "
            f"{json.dumps(mask_secrets(payload), ensure_ascii=False, default=str)}"
        )
    out(f"[{_now()}] dry run: {len(items)} item(s) due; nothing claimed, nothing sent")


def _payload(engine: Any, settings: Any, info: Any, item: Any) -> tuple[dict, str]:
    from crm_cli.entities import EntityTable
    from crm_cli.errors import EntityNotSupported

    spec = info.entities.get(item.entidade)
    if spec is None:
        raise EntityNotSupported(f"entity '{item.entidade}' is not supported by {info.name}")
    table = EntityTable(engine, settings.entity(item.entidade))
    with engine.connect() as conn:
        row = table.load(conn, item.id_registro)
    if row is None:
        raise NotFoundError(f"record {item.id_registro} does not exist in {table.mapping.table}")
    action = "update" if row.get(table.mapping.external_id) else "create"
    return spec.load_handler().to_external(row), action


def _sync_now(
    ctx: typer.Context,
    loja: int | None,
    entity: str | None,
    record_id: int | None,
    external_id: str | None,
    direction: str,
) -> None:
    from crm_cli.sync import sync_one

    if loja is None or entity is None:
        raise UsageError("--now needs --loja and --entity, and --id or --external-id")
    _check_target(ctx, loja, entity, record_id, external_id, direction)
    outcome = sync_one(
        state_of(ctx).engine,
        settings_of(ctx),
        id_loja=loja,
        entidade=entity,
        id_registro=record_id,
        external_id=external_id,
        direcao=direction,
    )
    if outcome.status == "completed":
        out(
            f"OK {entity} {record_id or outcome.id_registro or ''}: {outcome.message}".replace(
                "  ", " "
            )
        )
        return
    print(f"FAIL {entity} {record_id or external_id}: {outcome.message}", file=sys.stderr)
    raise typer.Exit(EXIT_FAILURE)
