"""``crm-cli import``: bring a CRM's records into the ERP."""

from __future__ import annotations

import typer

from crm_cli.cli.options import MAX_ID, day_of
from crm_cli.cli.render import ProgressBar, now_text, out
from crm_cli.cli.state import integracoes_of, settings_of, state_of

app = typer.Typer()


@app.command("import")
def import_(
    ctx: typer.Context,
    entity: str = typer.Option(..., "--entity", help="cliente, produto, venda, …"),
    loja: int = typer.Option(..., "--loja", min=1, max=MAX_ID, help="Store whose CRM to read."),
    limit: int | None = typer.Option(
        None, "--limit", min=1, max=MAX_ID, help="Stop after N records."
    ),
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

    Example: crm-cli import --entity cliente --loja 1 --limit 500
    """
    from crm_cli.services.importer import run_import
    from crm_cli.services.runs import recorded
    from crm_cli.states import RunKind

    since_date = day_of(since)
    settings = settings_of(ctx)
    settings.entity(entity)
    bar = ProgressBar(f"import {entity}")
    try:
        with recorded(state_of(ctx).database, RunKind.IMPORT) as counts:
            result = run_import(
                state_of(ctx).database,
                settings,
                integracoes_of(ctx),
                loja,
                entity,
                limit,
                since_date,
                to_queue,
                on_record=bar.update,
            )
            counts.processed, counts.errors = result.imported, result.errors
    finally:
        bar.stop()
    state = "finished" if result.finished else "paused (run it again to continue)"
    if result.budget_spent:
        state = (
            f"paused after {settings.sync.import_max_requests} requests "
            "(sync.import_max_requests; run it again to continue)"
        )
    resumed = " (resumed)" if result.resumed else ""
    out(
        f"[{now_text()}] Import{resumed} {state}: {result.imported} imported, {result.updated} "
        f"updated, {result.inserted} inserted, {result.enqueued} enqueued, "
        f"{result.errors} errors"
    )
