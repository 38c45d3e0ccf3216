"""P4: full-sync of 100 000 host rows into an empty queue, and into a half-full one."""

from __future__ import annotations

import time

import sqlalchemy as sa
from common import SECRET, arguments, report, scratch_database, shop

from crm_cli.credentials import CredentialCipher
from crm_cli.demo import sample_erp
from crm_cli.integrations import Integracoes
from crm_cli.providers.gestao_click.emulator import GestaoClickEmulator
from crm_cli.services.full_sync import full_sync
from crm_cli.settings import Settings


def add_rows(database: sa.Engine, count: int) -> None:
    for start in range(0, count, 20_000):
        rows = [
            {"tipo_pessoa": "PF", "nome": f"C{n}", "cpf": f"{n:011d}"}
            for n in range(start, min(count, start + 20_000))
        ]
        with database.begin() as conn:
            conn.execute(sa.insert(sample_erp.clientes), rows)


def timed_full_sync(database: sa.Engine, url: str) -> float:
    started = time.perf_counter()
    full_sync(
        database,
        Settings(source="bench", database_url=url),
        Integracoes(database, CredentialCipher(SECRET, "x")),
        "cliente",
    )
    return time.perf_counter() - started


def main() -> list[dict]:
    args = arguments(__doc__)
    count = 20_000 if args.quick else 100_000
    rows = []
    with scratch_database(args.backend) as url, GestaoClickEmulator() as emulator:
        database = shop(url, emulator)
        add_rows(database, count)
        empty = timed_full_sync(database, url)
        with database.begin() as conn:  # half the queue done, half still pending
            conn.execute(
                sa.text(
                    "UPDATE crm_sync_queue SET status = 'completed' WHERE MOD(id, 2) = 0"
                    if database.dialect.name != "sqlite"
                    else "UPDATE crm_sync_queue SET status = 'completed' WHERE id % 2 = 0"
                )
            )
        half = timed_full_sync(database, url)
        database.dispose()
    for label, seconds in (("empty", empty), ("half-full", half)):
        rows.append(
            {
                "id": "P4",
                "what": f"full-sync of {count:,} rows, {label} queue",
                "backend": args.backend,
                "result": f"{seconds:.2f} s",
                "target": "< 10 s",
                "ok": seconds < 10,
            }
        )
    report(rows, args.json)
    return rows


if __name__ == "__main__":
    main()
