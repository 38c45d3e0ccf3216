"""P10: change latency behind a bulk backlog. One store has a ``full-sync`` backlog of
20 000 items at priority 0; the PHP application queues 50 changes at priority 0, two
before each cron run. How many cron runs (minutes) until each change is in the CRM
(p99)? Baseline, from the same run: the same backlog queued as live items (what every
full-sync did before its items were ``bulk``), where a change waits behind all of it."""

from __future__ import annotations

import sqlalchemy as sa
from common import SECRET, arguments, report, scratch_database, shop

from crm_cli.credentials import CredentialCipher
from crm_cli.demo import sample_erp
from crm_cli.engine.run import SyncRun
from crm_cli.integrations import Integracoes
from crm_cli.providers.gestao_click.emulator import GestaoClickEmulator
from crm_cli.services.full_sync import full_sync
from crm_cli.settings import Settings

CHANGES, PER_RUN = 50, 2


def runs_until_done(url: str, backlog: int, as_bulk: bool, most_runs: int) -> list[int]:
    """Each change's cron runs from its enqueue to its completion (capped: most_runs)."""
    with GestaoClickEmulator() as emulator:
        database = shop(url, emulator, rate_limit_per_second=0, daily_limit=0)
        settings = Settings(source="bench", database_url=url)
        cipher = CredentialCipher(SECRET, "x")
        sample_erp.add_clientes(database, backlog)
        changes = sample_erp.add_clientes(database, CHANGES, start=backlog + 1)
        full_sync(database, settings, Integracoes(database, cipher), "cliente")
        if not as_bulk:  # as before: the backlog among the live changes
            with database.begin() as conn:
                conn.execute(sa.text("UPDATE crm_sync_queue SET bulk = 0"))
        queued_at: dict[int, int] = {}
        done_at: dict[int, int] = {}
        for run in range(1, most_runs + 1):
            fresh = [c for c in changes if c not in queued_at][:PER_RUN]
            with database.begin() as conn:
                for record in fresh:  # as the PHP application's enqueue inserts it
                    conn.execute(
                        sa.text(
                            "INSERT INTO crm_sync_queue (id_loja, entidade, id_registro, "
                            "direcao, prioridade) VALUES (1, 'cliente', :i, "
                            "'ecletech_para_crm', 0)"
                        ),
                        {"i": record},
                    )
                    queued_at[record] = run
            SyncRun(database, settings, cipher).run()
            with database.connect() as conn:
                completed = conn.execute(
                    sa.text(
                        "SELECT id_registro FROM crm_sync_queue WHERE status = 'completed' "
                        "AND id_registro >= :first AND bulk = 0"
                    ),
                    {"first": changes[0]},
                ).scalars()
                for record in completed:
                    done_at.setdefault(record, run)
            if len(done_at) == CHANGES:
                break
        database.dispose()
    return sorted(
        done_at.get(record, most_runs + 1) - queued_at.get(record, most_runs) + 1
        for record in changes
    )


def p99(values: list[int]) -> int:
    return values[min(len(values) - 1, int(len(values) * 0.99))]


def main() -> list[dict]:
    args = arguments(__doc__)
    backlog = 2_000 if args.quick else 20_000
    most = CHANGES // PER_RUN + 5  # enough for every change to be queued, and some
    with scratch_database(args.backend) as url:
        bulk = runs_until_done(url, backlog, as_bulk=True, most_runs=most)
    with scratch_database(args.backend) as url:
        before = runs_until_done(url, backlog, as_bulk=False, most_runs=most)
    rows = [
        {
            "id": "P10",
            "what": f"cron runs until a change reaches the CRM, behind {backlog:,} full-sync items",
            "backend": args.backend,
            "result": f"p99 {p99(bulk)} run(s)",
            "baseline": f"p99 {p99(before)} run(s) as live items (more than {most} = not reached)",
            "target": "p99 <= 2 runs",
            "ok": p99(bulk) <= 2,
        }
    ]
    report(rows, args.json)
    return rows


if __name__ == "__main__":
    main()
