"""``crm-cli pull``: bring what changed in each store's CRM into the ERP (cron)."""

from __future__ import annotations

import datetime as dt

import typer

from crm_cli.cli.options import MAX_ID, day_of
from crm_cli.cli.render import ProgressBar, now_text, out, warn
from crm_cli.cli.state import integracoes_of, settings_of, state_of
from crm_cli.errors import EXIT_FAILURE
from crm_cli.timezones import zone_of

app = typer.Typer()


@app.command("pull")
def pull(
    ctx: typer.Context,
    loja: list[int] = typer.Option(
        [], "--loja", min=1, max=MAX_ID, help="Only this store (repeatable)."
    ),
    entity: list[str] = typer.Option(
        [], "--entity", help="Only this entity: cliente, produto, venda, … (repeatable)."
    ),
    limit: int | None = typer.Option(
        None, "--limit", min=1, max=100, help="Records to apply in this run (default 100)."
    ),
    since: str | None = typer.Option(
        None,
        "--since",
        metavar="YYYY-MM-DD",
        help="Read the changes since that day again (the ERP's clock), instead of since "
        "the last pull.",
    ),
) -> None:
    """Bring what changed in each store's CRM since the last pull into the ERP: run it
    from cron every few minutes, beside `crm-cli sync`.

    Only changed records are asked for (Pipedrive: updated_since; Bling:
    dataAlteracaoInicial; GestãoClick has no such filter, so its lists are read
    page by page and records read before unchanged cost nothing). Each record
    goes through the entity's conflict strategy, like a CRM→ERP queue item. At
    most 100 records are applied per run, shared by the stores; the next run
    goes on from there. A store pulled for the first time starts from now:
    bring what the CRM held before with `crm-cli import`.

    Example: crm-cli pull --loja 1 --entity cliente
    """
    from crm_cli.services.pull import run_pull
    from crm_cli.services.runs import recorded
    from crm_cli.states import RunKind

    settings = settings_of(ctx)
    day = day_of(since)
    start = None  # that day's midnight on the ERP's clock, as an instant
    if day is not None:
        start = dt.datetime.combine(day, dt.time(), zone_of(settings.app_time_zone))
    bar = ProgressBar("pull")
    try:
        with recorded(state_of(ctx).database, RunKind.PULL) as counts:
            result = run_pull(
                state_of(ctx).database,
                settings,
                integracoes_of(ctx),
                lojas=loja or None,
                entidades=entity or None,
                limit=limit,
                since=start,
                on_record=bar.update,
            )
            counts.processed, counts.errors = result.applied, result.errors
            counts.requests = result.requests
    finally:
        bar.stop()
    out(
        f"[{now_text()}] Pull: {result.applied} applied ({result.same} held already), "
        f"{result.unchanged} unchanged, "
        f"{result.errors} errors ({result.queued} queued for retry), {result.read} read, "
        f"{result.requests} requests"
    )
    if result.pending:
        out(f"[{now_text()}] more to read next run: {', '.join(result.pending)}")
    for busy in result.busy:
        out(f"[{now_text()}] {busy}: being read by another run")
    for stopped in result.stopped:  # not silent: the store's changes wait
        warn(f"{stopped} (its read continues in the next run)")
    if result.stopped and not (result.finished or result.pending or result.applied):
        raise typer.Exit(EXIT_FAILURE)
