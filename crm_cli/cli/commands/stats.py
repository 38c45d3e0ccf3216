"""``crm-cli stats``: queue and log figures, as a table or JSON."""

from __future__ import annotations

import json

import typer

from crm_cli.cli.options import MAX_ID
from crm_cli.cli.render import out, render_stats
from crm_cli.cli.state import integracoes_of, state_of
from crm_cli.errors import CrmError, UsageError

app = typer.Typer()


@app.command()
def stats(
    ctx: typer.Context,
    loja: int | None = typer.Option(None, "--loja", min=1, max=MAX_ID, help="Only this store."),
    as_json: bool = typer.Option(
        False, "--json", help="A stable JSON object (schema_version; README lists it)."
    ),
    prometheus: bool = typer.Option(
        False, "--prometheus", help="The figures in Prometheus' text format, on stdout."
    ),
    textfile: str | None = typer.Option(
        None,
        "--textfile",
        metavar="PATH",
        help="Write them in Prometheus' text format to PATH, atomically (node_exporter's "
        "textfile collector: a .prom file in its directory).",
    ),
) -> None:
    """Queue and log figures: pending, processing, completed today, failed, errors and
    success rate over 24 h, the oldest pending item's age, a per-store breakdown,
    the last run of each job, the pull watermarks and PHP v3's schedules.

    Failed items are counted as failed, never as processed. "today" and "24 h"
    follow the database's clock in UTC.

    Example: crm-cli stats --textfile /var/lib/node_exporter/textfile/crm_cli.prom
    """
    if sum((as_json, prometheus, textfile is not None)) > 1:
        raise UsageError("choose one of --json, --prometheus and --textfile")
    from crm_cli.services.pauses import stores_by_account
    from crm_cli.services.stats import collect

    try:  # which stores a paused account stops: their credentials name the account
        accounts = stores_by_account(integracoes_of(ctx))
    except CrmError:  # no secret here: the accounts go without their stores
        accounts = {}
    data = collect(state_of(ctx).database, loja, accounts)
    if prometheus or textfile is not None:
        from crm_cli.services.metrics import prometheus_text, write_textfile

        text = prometheus_text(data)
        if textfile is None:
            out(text.rstrip("\n"))
            return
        try:
            write_textfile(textfile, text)
        except OSError as exc:
            raise UsageError(f"--textfile {textfile}: cannot write it ({exc.strerror})") from None
        return
    if as_json:
        out(json.dumps(data, ensure_ascii=False, sort_keys=True))
        return
    render_stats(data)
