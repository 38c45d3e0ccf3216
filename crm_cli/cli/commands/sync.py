"""``crm-cli sync``: the cron worker, its dry run, and ``--now`` for one record."""

from __future__ import annotations

import sys

import typer

from crm_cli.cli.options import DIRECTION_HELP, MAX_ID, check_record_flags, direction_of
from crm_cli.cli.render import ProgressBar, now_text, out, warn
from crm_cli.cli.reporting import explain, show_traceback
from crm_cli.cli.state import integracoes_of, settings_of, state_of
from crm_cli.errors import EXIT_FAILURE, InvalidRequest, NotSynced, UsageError
from crm_cli.states import Direction, OutcomeKind

app = typer.Typer()
# A pause shorter than this ends before the next cron run: nothing to tell
PAUSE_WORTH_TELLING = 60


@app.command()
def sync(
    ctx: typer.Context,
    limit: int | None = typer.Option(
        None, "--limit", min=1, help="Claim at most N items (never more than sync.batch_size, 100)."
    ),
    loja: int | None = typer.Option(
        None, "--loja", min=1, max=MAX_ID, help="Only this store's items."
    ),
    entity: str | None = typer.Option(None, "--entity", help="Only this entity's items."),
    dry_run: bool = typer.Option(
        False,
        "--dry-run",
        help="Claim nothing, send nothing, write nothing: print what a run would do "
        "with each due item (not with --now).",
    ),
    now: bool = typer.Option(
        False,
        "--now",
        help="Sync one record at once, without the queue (needs --loja, "
        "--entity and --id or --external-id).",
    ),
    record_id: int | None = typer.Option(
        None, "--id", min=1, max=MAX_ID, help="With --now: the record."
    ),
    external_id: str | None = typer.Option(None, "--external-id", help="With --now: CRM's id."),
    direction: str = typer.Option(Direction.ERP_TO_CRM.value, "--direction", help=DIRECTION_HELP),
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

    Example: crm-cli sync --dry-run
    """
    if now and dry_run:
        raise UsageError("--dry-run goes without --now (--now sends the record at once)")
    if now:  # run by hand: its errors are every command's ('crm-cli: error: …')
        _sync_now(ctx, loja, entity, record_id, external_id, direction_of(direction))
        return
    try:
        if record_id is not None or external_id is not None:
            raise UsageError("--id and --external-id go with --now")
        if dry_run:
            _dry_run(ctx, limit, loja, entity)
        else:
            _run(ctx, limit, loja, entity)
    except (typer.Exit, UsageError, InvalidRequest):  # exit 2, as any bad request
        raise
    except Exception as exc:  # a fatal error: the original's ERRO line, exit 1
        show_traceback(exc)
        message, _code = explain(exc)
        print(f"[{now_text()}] ERRO: {message}", file=sys.stderr, flush=True)
        raise typer.Exit(EXIT_FAILURE) from None


def _run(ctx: typer.Context, limit: int | None, loja: int | None, entity: str | None) -> None:
    from crm_cli.engine.run import SyncRun
    from crm_cli.services.runs import recorded
    from crm_cli.states import RunKind

    settings = settings_of(ctx)
    if entity is not None:
        settings.entity(entity)
    bar = ProgressBar("sync")
    run = SyncRun(
        state_of(ctx).database,
        settings,
        on_claim=lambda total: bar.update(bar.done, total),
        on_item=bar.item_done,
    )
    try:
        with recorded(state_of(ctx).database, RunKind.SYNC) as counts:
            result = run.run(limit=limit, id_loja=loja, entidade=entity)
            counts.processed, counts.errors = result.processed, result.errors
            counts.requests = result.requests
    finally:
        bar.stop()
    out(result.summary_line(now_text()))
    details = result.details_line()
    if details:
        out(f"[{now_text()}] {details}")
    for item_id in result.lost_leases:
        warn(f"item #{item_id}: lease lost to another run; its result was not recorded on the item")
    for loja, why in result.parked_stores.items():  # not silent: an operator must act
        warn(f"store {loja}: its items wait (attempts intact) — {why}")
    for loja, seconds in result.paused_stores.items():
        if seconds >= PAUSE_WORTH_TELLING:  # past the next cron minute: say so
            warn(
                f"store {loja}: its CRM account is paused for {seconds} s more (the CRM asked "
                f"for it); its items go to later runs, attempts intact — 'crm-cli config "
                f"resume --loja {loja}' lifts the pause"
            )
    if result.log_errors:
        print(
            f"[{now_text()}] ERRO: the sync log could not be written for {len(result.log_errors)} "
            f"item(s), their results were kept: {result.log_errors[0]}",
            file=sys.stderr,
        )
        raise typer.Exit(EXIT_FAILURE)


def _dry_run(ctx: typer.Context, limit: int | None, loja: int | None, entity: str | None) -> None:
    from crm_cli.services.dry_run import preview

    lines = preview(
        state_of(ctx).database, settings_of(ctx), integracoes_of(ctx), limit, loja, entity
    )
    for line in lines:
        out(line)
    out(f"[{now_text()}] dry run: {len(lines)} item(s) due; nothing claimed, nothing sent")


def _sync_now(
    ctx: typer.Context,
    loja: int | None,
    entity: str | None,
    record_id: int | None,
    external_id: str | None,
    direction: Direction,
) -> None:
    from crm_cli.engine.run import sync_one
    from crm_cli.services.targets import check_target

    if loja is None or entity is None:
        raise UsageError("--now needs --loja and --entity, and --id or --external-id")
    check_record_flags(direction, record_id, external_id)
    database, settings = state_of(ctx).database, settings_of(ctx)
    check_target(database, settings, integracoes_of(ctx), loja, entity, record_id)
    outcome = sync_one(
        database,
        settings,
        id_loja=loja,
        entidade=entity,
        id_registro=record_id,
        external_id=external_id,
        direcao=direction,
    )
    if outcome.kind is OutcomeKind.COMPLETED:
        out(
            f"OK {entity} {record_id or outcome.id_registro or ''}: {outcome.message}".replace(
                "  ", " "
            )
        )
        return
    # one line, as every command's errors: crm-cli: error: …
    raise NotSynced(f"{entity} {record_id or external_id} not synced: {outcome.message}")
