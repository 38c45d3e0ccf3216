"""``full-sync``, ``import``, ``cleanup``, ``stats``, ``logs`` and ``demo``."""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

import typer

from crm_cli.cli.app import app
from crm_cli.cli.render import ProgressBar, out, table
from crm_cli.cli.state import integracoes_of, settings_of, state_of
from crm_cli.errors import UsageError


def _now() -> str:
    return dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S")


@app.command("full-sync")
def full_sync(
    ctx: typer.Context,
    entity: str = typer.Option(..., "--entity", help="cliente, produto, venda, …"),
    loja: int | None = typer.Option(None, "--loja", min=1, help="Only this store."),
    priority: int = typer.Option(0, "--priority", min=0, max=10, help="Priority (default 0)."),
) -> None:
    """Queue every live row of an entity for sync to the CRM, for each active store.

    Soft-deleted rows are skipped, entities.<name>.store_column is respected, and
    rows already pending are not queued twice. Low priority by default, so the
    day's changes still go first. Prints a line per store with an estimate of the
    cron minutes the queue needs at 100 items per run.
    """
    from crm_cli.fullsync import full_sync as queue_all
    from crm_cli.queue.admin import pending_count

    bar = ProgressBar(f"full-sync {entity}")
    try:
        results = queue_all(
            state_of(ctx).engine,
            settings_of(ctx),
            integracoes_of(ctx),
            entity,
            loja,
            priority,
            on_chunk=bar.update,
        )
    finally:
        bar.stop()
    if not results:
        raise UsageError("no store has an active CRM integration (see 'crm-cli config list')")
    for r in results:
        if r.skipped:
            out(f"[{_now()}] Loja {r.id_loja} ({r.provider}): skipped, {r.skipped}")
            continue
        pending = pending_count(state_of(ctx).engine, r.id_loja)
        out(
            f"[{_now()}] Loja {r.id_loja} ({r.provider}): {r.queued} of {r.rows} {entity} rows "
            f"queued ({r.rows - r.queued} already pending); {pending} pending in all, "
            f"about {math.ceil(pending / 100)} cron minute(s) at 100 items per run"
        )


@app.command("import")
def import_(
    ctx: typer.Context,
    entity: str = typer.Option(..., "--entity", help="cliente, produto, venda, …"),
    loja: int = typer.Option(..., "--loja", min=1, help="Store whose CRM to read."),
    limit: int | None = typer.Option(None, "--limit", min=1, help="Stop after N records."),
    since: str | None = typer.Option(
        None, "--since", metavar="YYYY-MM-DD", help="Only records the CRM changed since then."
    ),
    to_queue: bool = typer.Option(
        False, "--enqueue", help="Queue CRM→ERP items for the next sync runs instead."
    ),
) -> None:
    """Bring a CRM's records into the ERP: update rows matched by external id, insert the rest.

    Resumable: an interrupted import (or one stopped by --limit) continues from the
    page it reached the next time it is run. Paced by the provider's rate limiter.
    """
    from crm_cli.importer import run_import

    since_date = None
    if since is not None:
        try:
            since_date = dt.date.fromisoformat(since)
        except ValueError:
            raise UsageError(f"--since must be a date YYYY-MM-DD (got '{since}')") from None
    settings = settings_of(ctx)
    settings.entity(entity)
    bar = ProgressBar(f"import {entity}")
    try:
        result = run_import(
            state_of(ctx).engine,
            settings,
            integracoes_of(ctx),
            loja,
            entity,
            limit,
            since_date,
            to_queue,
            on_record=bar.update,
        )
    finally:
        bar.stop()
    state = "finished" if result.finished else "paused (run it again to continue)"
    resumed = " (resumed)" if result.resumed else ""
    out(
        f"[{_now()}] Import{resumed} {state}: {result.imported} imported, {result.updated} "
        f"updated, {result.inserted} inserted, {result.enqueued} enqueued, "
        f"{result.errors} errors"
    )


@app.command()
def cleanup(
    ctx: typer.Context,
    queue_days: int | None = typer.Option(
        None, "--queue-days", help="Keep completed queue items this many days (default 7)."
    ),
    log_days: int | None = typer.Option(
        None, "--log-days", help="Keep log rows this many days (default 30)."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Count only; delete nothing."),
) -> None:
    """Delete completed queue items and old log rows, in small transactions.

    Pending, processing and failed items are never deleted. Prints the original's
    line: '[…] Limpeza concluída: N itens da fila, M logs removidos'.
    """
    from crm_cli.cleanup import cleanup as clean

    settings = settings_of(ctx)
    queue_days = settings.cleanup.queue_days if queue_days is None else queue_days
    log_days = settings.cleanup.log_days if log_days is None else log_days
    for name, value in (("--queue-days", queue_days), ("--log-days", log_days)):
        if value <= 0:
            raise UsageError(f"{name} must be at least 1 (got {value})")
    result = clean(state_of(ctx).engine, queue_days, log_days, dry_run)
    if dry_run:
        out(
            f"[{_now()}] Limpeza (simulação): {result.queue_items} itens da fila, "
            f"{result.log_rows} logs seriam removidos"
        )
    else:
        out(
            f"[{_now()}] Limpeza concluída: {result.queue_items} itens da fila, "
            f"{result.log_rows} logs removidos"
        )


@app.command()
def stats(
    ctx: typer.Context,
    loja: int | None = typer.Option(None, "--loja", min=1, help="Only this store."),
    as_json: bool = typer.Option(False, "--json", help="A stable JSON object, for monitoring."),
) -> None:
    """Queue and log figures: pending, processing, completed today, failed, errors and
    success rate over 24 h, the oldest pending item's age, and a per-store breakdown.

    Failed items are counted as failed, never as processed. "today" and "24 h"
    follow the database's clock in UTC.
    """
    from crm_cli.stats import collect

    data = collect(state_of(ctx).engine, loja)
    if as_json:
        out(json.dumps(data, ensure_ascii=False, sort_keys=True))
        return
    render_stats(data)


def render_stats(data: dict[str, Any]) -> None:
    q, log = data["queue"], data["log_24h"]
    rate = "-" if log["taxa_sucesso"] is None else f"{log['taxa_sucesso']}%"
    oldest = q["oldest_pending_seconds"]
    table(
        f"crm-cli stats ({data['generated_at']})",
        [
            "pending",
            "processing",
            "completed today",
            "failed",
            "errors 24h",
            "success 24h",
            "oldest pending",
        ],
        [
            [
                q["pending"],
                q["processing"],
                q["completed_today"],
                q["failed"],
                log["erro"],
                rate,
                "-" if oldest is None else f"{oldest} s",
            ]
        ],
    )
    for store in data.get("reauthorization_needed", []):
        out(
            f"store {store['id_loja']} ({store['provider']}): re-authorization needed — "
            f"{store['reason']}"
        )
    for account in data.get("paused_accounts", []):
        out(
            f"account {account['account']}: paused for {account['seconds_left']} s "
            "(rate limit or daily budget)"
        )
    if data["by_store"]:
        table(
            "by store and entity",
            ["loja", "entidade", "pending", "processing", "failed", "completed today"],
            [
                [
                    s["id_loja"],
                    s["entidade"],
                    s["pending"],
                    s["processing"],
                    s["failed"],
                    s["completed_today"],
                ]
                for s in data["by_store"]
            ],
        )


@app.command()
def logs(
    ctx: typer.Context,
    loja: int | None = typer.Option(None, "--loja", min=1, help="Only this store."),
    entity: str | None = typer.Option(None, "--entity", help="Only this entity."),
    record_id: int | None = typer.Option(None, "--id", help="Only this record (with --entity)."),
    errors: bool = typer.Option(False, "--errors", help="Only errors."),
    limit: int = typer.Option(50, "--limit", min=1, max=10000, help="Newest N rows."),
) -> None:
    """Show crm_sync_log rows, newest first: by record, or the errors."""
    from crm_cli.synclog import entries

    if record_id is not None and entity is None:
        raise UsageError("--id needs --entity (record ids are per entity)")
    rows = entries(
        state_of(ctx).engine,
        id_loja=loja,
        entidade=entity,
        id_registro=record_id,
        errors_only=errors,
        limit=limit,
    )
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


@app.command()
def demo(
    keep: bool = typer.Option(False, "--keep", help="Keep the demo database afterwards."),
) -> None:
    """Offline demonstration, in under a minute: a throw-away SQLite database with
    sample ERP data, a local GestãoClick emulator, a full sync, and the stats.

    Reads and changes nothing of yours (no config, no JWT_SECRET, no database).
    """
    from crm_cli.demo import run_demo

    bar = ProgressBar("sync")
    try:
        result = run_demo(
            out,
            keep=keep,
            on_run=lambda r: out("   " + r.summary_line(_now())),
            on_item=bar.advance,
        )
    finally:
        bar.stop()
    e = result.emulator
    out(
        f"5. The CRM now holds {e['records'].get('clientes', 0)} clients and "
        f"{e['records'].get('produtos', 0)} products; {e['requests']} requests, "
        f"at most {e['max_per_second']} in any second, {e['rate_limited']} answered 429"
    )
    render_stats(result.stats)
    if keep:
        out(f"Demo database kept: {result.database}")
