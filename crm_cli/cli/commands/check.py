"""``crm-cli check``: one status line and exit code for an uptime monitor."""

from __future__ import annotations

import typer

from crm_cli.cli.render import out
from crm_cli.cli.state import integracoes_of, state_of

app = typer.Typer()


@app.command("check")
def check(
    ctx: typer.Context,
    max_age: list[str] = typer.Option(
        [],
        "--max-age",
        metavar="JOB=SECONDS",
        help="CRITICAL when JOB (sync, pull, schedules, full-sync, import, cleanup) last "
        "ran longer ago than SECONDS (repeatable; default sync=300).",
    ),
    pending_warning: int = typer.Option(
        900, "--pending-warning", min=0, help="WARNING when the oldest pending item is older (s)."
    ),
    pending_critical: int = typer.Option(
        3600, "--pending-critical", min=0, help="CRITICAL when it is older still (s)."
    ),
    failed_warning: int = typer.Option(
        1, "--failed-warning", min=0, help="WARNING from this many failed items (0: never)."
    ),
    failed_critical: int = typer.Option(
        0, "--failed-critical", min=0, help="CRITICAL from this many failed items (0: never)."
    ),
) -> None:
    """Say in one line whether crm-cli is alive and well, the way Nagios, Icinga,
    Zabbix or an uptime monitor read it: exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN,
    then what is wrong and perfdata.

    CRITICAL: a job's last run is older than its --max-age (cron stopped, or the run
    hangs), a store needs re-authorisation, the oldest pending item is older than
    --pending-critical. WARNING: a job's last run failed, failed items, a parked
    store, a paused CRM account, an old pending item.

    Example: crm-cli check --max-age sync=300 --max-age pull=900
    """
    from crm_cli.cli.reporting import explain
    from crm_cli.services.check import Thresholds, evaluate, unknown
    from crm_cli.services.pauses import stores_by_account
    from crm_cli.services.stats import collect

    try:
        limits = Thresholds(
            max_age=_ages(max_age) or {"sync": 300},
            pending_warning=pending_warning or None,
            pending_critical=pending_critical or None,
            failed_warning=failed_warning or None,
            failed_critical=failed_critical or None,
        )
        try:
            accounts = stores_by_account(integracoes_of(ctx))
        except Exception:  # no secret here: the paused accounts go without their stores
            accounts = {}
        verdict = evaluate(collect(state_of(ctx).database, None, accounts), limits)
    except Exception as exc:  # the check could not tell: UNKNOWN, as the rules say
        verdict = unknown(explain(exc)[0])
    out(verdict.line)
    raise typer.Exit(int(verdict.status))


def _ages(values: list[str]) -> dict[str, int]:
    from crm_cli.errors import UsageError
    from crm_cli.states import RunKind

    ages = {}
    for value in values:
        kind, _, seconds = value.partition("=")
        if kind not in {str(k) for k in RunKind} or not seconds.isdigit() or int(seconds) < 1:
            jobs = ", ".join(str(k) for k in RunKind)
            raise UsageError(f"--max-age takes JOB=SECONDS, JOB one of {jobs} (got '{value}')")
        ages[kind] = int(seconds)
    return ages
