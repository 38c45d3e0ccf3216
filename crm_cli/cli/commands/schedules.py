"""``crm-cli schedules``: run PHP v3's due schedules (``crm_sync_schedules``), from cron."""

from __future__ import annotations

import typer

from crm_cli.cli.render import now_text, out, warn
from crm_cli.cli.state import integracoes_of, settings_of, state_of

app = typer.Typer()


@app.command("schedules")
def schedules(ctx: typer.Context) -> None:
    """Run the due schedules of PHP v3's screen (crm_sync_schedules), as its
    crm_sync_master.php did: run it from cron every minute, once that job is retired.

    CRM → ERP schedules run `pull` (only what changed), ERP → CRM ones queue the
    rows changed since last sent and send a batch of them, `bidirecional` both;
    each batch writes the crm_sync_logs row v3's status screens read, and the
    schedule's counters and next run. Nothing to do (no schedules, none due,
    or not a v3 database) is not an error.

    Example: crm-cli schedules
    """
    from crm_cli.services.runs import recorded
    from crm_cli.services.schedules import run_schedules
    from crm_cli.states import RunKind

    database = state_of(ctx).database
    with recorded(database, RunKind.SCHEDULES) as counts:
        result = run_schedules(database, settings_of(ctx), integracoes_of(ctx))
        batches = [b for run in result.ran for b in run.batches]
        counts.processed = sum(b.processed for b in batches)
        counts.errors = sum(b.errors + (1 if b.failure else 0) for b in batches)
    if not result.table:
        out(f"[{now_text()}] Schedules: no crm_sync_schedules table (not PHP v3): nothing to run")
        return
    for run in result.ran:
        for batch in run.batches:
            line = (
                f"[{now_text()}] schedule #{run.id} loja {run.id_loja} {run.entidade} "
                f"{batch.direcao}: {batch.status}, {batch.processed} processed, "
                f"{batch.errors} errors"
            )
            if batch.failure:
                warn(f"schedule #{run.id} loja {run.id_loja}: {batch.failure}")
            out(line)
    out(
        f"[{now_text()}] Schedules: {len(result.ran)} run, {len(result.busy)} held by another "
        f"run, {result.left} left for the next run"
    )
