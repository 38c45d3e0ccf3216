"""``crm-cli full-sync``: queue every live row of an entity."""

from __future__ import annotations

import math

import typer

from crm_cli.cli.options import MAX_ID
from crm_cli.cli.render import ProgressBar, now_text, out
from crm_cli.cli.state import integracoes_of, settings_of, state_of
from crm_cli.errors import UsageError

app = typer.Typer()


@app.command("full-sync")
def full_sync(
    ctx: typer.Context,
    entity: str = typer.Option(..., "--entity", help="cliente, produto, venda, …"),
    loja: int | None = typer.Option(None, "--loja", min=1, max=MAX_ID, help="Only this store."),
    priority: int = typer.Option(0, "--priority", min=0, max=10, help="Priority (default 0)."),
    every_row: bool = typer.Option(
        False, "--all", help="Every live row, also those unchanged since they were last sent."
    ),
) -> None:
    """Queue the live rows of an entity changed since they were last sent to the CRM
    (or never sent), for each active store.

    Soft-deleted rows are skipped, entities.<name>.store_column is respected, and
    rows already pending are not queued twice. A row is unchanged when its
    updated_at column is the one it had when last sent (an entity without one is
    queued whole); --all queues every live row. Runs take these items after the
    live changes of the same priority, so the day's changes still go first.
    Prints a line per store with an estimate of the cron minutes the queue needs
    at 100 items per run.

    Example: crm-cli full-sync --entity cliente --loja 1
    """
    from crm_cli.engine.queue.admin import pending_count
    from crm_cli.services.full_sync import full_sync as queue_all
    from crm_cli.services.runs import recorded
    from crm_cli.states import RunKind

    bar = ProgressBar(f"full-sync {entity}")
    try:
        with recorded(state_of(ctx).database, RunKind.FULL_SYNC) as counts:
            results = queue_all(
                state_of(ctx).database,
                settings_of(ctx),
                integracoes_of(ctx),
                entity,
                loja,
                priority,
                on_chunk=bar.update,
                changed_only=not every_row,
            )
            counts.processed = sum(r.queued for r in results)
    finally:
        bar.stop()
    if not results:
        raise UsageError("no store has an active CRM integration (see 'crm-cli config list')")
    database = state_of(ctx).database
    for r in results:
        if r.skipped:
            out(f"[{now_text()}] Loja {r.id_loja} ({r.provider}): skipped, {r.skipped}")
            continue
        left = [
            f"{count} {why}"
            for count, why in (
                (r.rows - r.unchanged - r.queued, "already pending"),
                (r.unchanged, "unchanged since last sent"),
            )
            if count
        ]
        not_queued = f" ({', '.join(left)})" if left else ""
        out(
            f"[{now_text()}] Loja {r.id_loja} ({r.provider}): {r.queued} of {r.rows} {entity} rows "
            f"queued{not_queued}; {pending_count(database, r.id_loja)} pending for the store"
        )
    # runs take every store's items, 100 at a time: the estimate counts them all
    pending = pending_count(database)
    out(
        f"[{now_text()}] {pending} pending in all, about {math.ceil(pending / 100)} cron "
        "minute(s) at 100 items per run (runs are shared by every store)"
    )
