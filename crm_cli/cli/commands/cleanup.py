"""``crm-cli cleanup``: delete completed queue items and old log rows."""

from __future__ import annotations

import typer

from crm_cli.cli.options import MAX_DAYS
from crm_cli.cli.render import now_text, out
from crm_cli.cli.state import settings_of, state_of
from crm_cli.errors import UsageError

app = typer.Typer()


@app.command()
def cleanup(
    ctx: typer.Context,
    queue_days: int | None = typer.Option(
        None,
        "--queue-days",
        max=MAX_DAYS,
        help="Keep completed queue items this many days (default 7).",
    ),
    log_days: int | None = typer.Option(
        None,
        "--log-days",
        max=MAX_DAYS,
        help="Keep log rows this many days (default 30).",
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Count only; delete nothing."),
) -> None:
    """Delete completed queue items and old log rows, in small transactions.

    Pending, processing and failed items are never deleted, nor the last run record
    of each job. Prints the original's line (crm_cleanup.php's, for grep):
    '[…] Limpeza concluída: N itens da fila, M logs removidos'.

    Example: crm-cli cleanup --dry-run
    """
    from crm_cli.services.cleanup import cleanup as clean
    from crm_cli.services.runs import recorded
    from crm_cli.states import RunKind

    settings = settings_of(ctx)
    queue_days = settings.cleanup.queue_days if queue_days is None else queue_days
    log_days = settings.cleanup.log_days if log_days is None else log_days
    for name, value in (("--queue-days", queue_days), ("--log-days", log_days)):
        if value <= 0:
            raise UsageError(f"{name} must be at least 1 (got {value})")
    database = state_of(ctx).database
    with recorded(database, RunKind.CLEANUP) as counts:
        result = clean(database, queue_days, log_days, dry_run)
        counts.processed = result.queue_items + result.log_rows
    if dry_run:
        out(
            f"[{now_text()}] Cleanup (dry run): {result.queue_items} queue items, "
            f"{result.log_rows} log rows and {result.runs} run records would be deleted"
        )
    else:
        out(
            f"[{now_text()}] Limpeza concluída: {result.queue_items} itens da fila, "
            f"{result.log_rows} logs removidos"
        )  # the original's line (crm_cleanup.php), byte for byte: operators grep for it
        if result.runs:
            out(f"[{now_text()}] and {result.runs} run records older than {log_days} days")
