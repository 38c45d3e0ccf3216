"""``crm-cli stats``: queue and log figures, as a table or JSON."""

from __future__ import annotations

import json

import typer

from crm_cli.cli.options import MAX_ID
from crm_cli.cli.render import out, render_stats
from crm_cli.cli.state import integracoes_of, state_of
from crm_cli.errors import CrmError

app = typer.Typer()


@app.command()
def stats(
    ctx: typer.Context,
    loja: int | None = typer.Option(None, "--loja", min=1, max=MAX_ID, help="Only this store."),
    as_json: bool = typer.Option(False, "--json", help="A stable JSON object, for monitoring."),
) -> None:
    """Queue and log figures: pending, processing, completed today, failed, errors and
    success rate over 24 h, the oldest pending item's age, and a per-store breakdown.

    Failed items are counted as failed, never as processed. "today" and "24 h"
    follow the database's clock in UTC.
    """
    from crm_cli.services.pauses import stores_by_account
    from crm_cli.services.stats import collect

    try:  # which stores a paused account stops: their credentials name the account
        accounts = stores_by_account(integracoes_of(ctx))
    except CrmError:  # no secret here: the accounts go without their stores
        accounts = {}
    data = collect(state_of(ctx).database, loja, accounts)
    if as_json:
        out(json.dumps(data, ensure_ascii=False, sort_keys=True))
        return
    render_stats(data)
