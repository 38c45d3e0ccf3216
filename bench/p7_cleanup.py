"""P7: `cleanup` deleting 1 000 000 old rows: it completes, and no transaction holds
its locks for long (the longest is reported)."""

from __future__ import annotations

import time

import sqlalchemy as sa
from common import arguments, report, scratch_database

from crm_cli.db.backends import open_database
from crm_cli.db.migrator import migrate
from crm_cli.services.cleanup import cleanup
from crm_cli.settings import Settings


def fill(database: sa.Engine, rows: int) -> None:
    chunk = [{"i": n} for n in range(20_000)]
    for _ in range(0, rows, 20_000):
        with database.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO crm_sync_queue (id_loja, entidade, id_registro, direcao, status, "
                    "processado, processado_em) VALUES (1, 'cliente', :i, 'ecletech_para_crm', "
                    "'completed', 1, '2020-01-01 00:00:00')"
                ),
                chunk,
            )


def main() -> list[dict]:
    args = arguments(__doc__)
    count = 100_000 if args.quick else 1_000_000
    with scratch_database(args.backend) as url:
        database = open_database(url)
        migrate(Settings(source="bench", database_url=url), database)
        fill(database, count)
        spans: list[float] = []
        opened: dict[int, float] = {}
        sa.event.listen(database, "begin", lambda c: opened.__setitem__(id(c), time.perf_counter()))
        sa.event.listen(
            database, "commit", lambda c: spans.append(time.perf_counter() - opened.pop(id(c), 0))
        )
        started = time.perf_counter()
        result = cleanup(database, queue_days=7, log_days=30)
        total = time.perf_counter() - started
        database.dispose()
    longest = max(spans) if spans else 0.0
    rows = [
        {
            "id": "P7",
            "what": f"cleanup of {count:,} old items",
            "backend": args.backend,
            "result": f"{result.queue_items:,} deleted in {total:.1f} s; longest transaction "
            f"{longest * 1000:.0f} ms",
            "target": "completes, every transaction ≤ 1 s",
            "ok": result.queue_items == count and longest <= 1.0,
        }
    ]
    report(rows, args.json)
    return rows


if __name__ == "__main__":
    main()
