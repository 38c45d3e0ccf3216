"""``crm-cli stats``: queue and log figures, as a table or JSON."""

from __future__ import annotations

import json

import typer

from crm_cli.cli.options import MAX_ID
from crm_cli.cli.render import out, render_stats
from crm_cli.cli.state import state_of

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
    from crm_cli.services.stats import collect

    data = collect(state_of(ctx).database, loja)
    if as_json:
        out(json.dumps(data, ensure_ascii=False, sort_keys=True))
        return
    render_stats(data)
