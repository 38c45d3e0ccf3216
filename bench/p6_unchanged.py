"""P6: a full-sync of rows unchanged since they were last sent queues no item, and a
sync of them (``full-sync --all``) sends no write."""

from __future__ import annotations

from common import SECRET, arguments, report, scratch_database, shop

from crm_cli.credentials import CredentialCipher
from crm_cli.demo import sample_erp
from crm_cli.engine.queue.admin import pending_count
from crm_cli.engine.run import SyncRun
from crm_cli.integrations import Integracoes
from crm_cli.providers.gestao_click.emulator import GestaoClickEmulator
from crm_cli.services.full_sync import full_sync
from crm_cli.settings import Settings


def sync_everything(database, url: str, every_row: bool = True) -> int:
    """Queue (every row, or the changed ones) and sync; the items queued."""
    settings = Settings(source="bench", database_url=url)
    cipher = CredentialCipher(SECRET, "x")
    results = full_sync(
        database, settings, Integracoes(database, cipher), "cliente", changed_only=not every_row
    )
    while pending_count(database):
        SyncRun(database, settings, cipher).run()
    return sum(r.queued for r in results)


def writes(emulator: GestaoClickEmulator) -> int:
    counters = emulator.counters
    return sum(v for k, v in counters.items() if k.startswith(("create:", "update:")))


def main() -> list[dict]:
    args = arguments(__doc__)
    count = 1_000 if args.quick else 10_000
    with scratch_database(args.backend) as url, GestaoClickEmulator() as emulator:
        database = shop(url, emulator, rate_limit_per_second=0, daily_limit=0)
        sample_erp.add_clientes(database, count)
        sync_everything(database, url)
        before, requests_before = writes(emulator), emulator.stats()["requests"]
        queued = sync_everything(database, url, every_row=False)  # nothing changed since
        queued_all = sync_everything(database, url)  # --all: every row (the baseline)
        after, requests_after = writes(emulator), emulator.stats()["requests"]
        database.dispose()
    rows = [
        {
            "id": "P6",
            "what": f"full-sync --all + sync of {count:,} unchanged rows",
            "backend": args.backend,
            "result": f"{after - before} write requests ({requests_after - requests_before} "
            "requests in all)",
            "target": "0 write requests",
            "ok": after == before,
        },
        {
            "id": "P6",
            "what": f"full-sync of {count:,} rows unchanged since last sent",
            "backend": args.backend,
            "result": f"{queued} items queued",
            "baseline": f"{queued_all} items queued by --all (every row, as before)",
            "target": "0 items queued",
            "ok": queued == 0,
        },
    ]
    report(rows, args.json)
    return rows


if __name__ == "__main__":
    main()
