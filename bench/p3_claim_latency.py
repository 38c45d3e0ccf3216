"""P3: claim latency with a deep queue (mixed statuses, realistic priorities), MariaDB.

Claims 100 items 21 times (each claim handed back), reports the median, and
EXPLAINs the claim query.
"""

from __future__ import annotations

import random
import time

import sqlalchemy as sa
from common import arguments, median, report, scratch_database

from crm_cli.db.backends import open_database
from crm_cli.db.migrator import migrate
from crm_cli.engine.queue import claim, claim_select, release
from crm_cli.settings import Settings


def fill(database: sa.Engine, rows: int) -> None:
    rng = random.Random(1)
    statuses = ["completed"] * 90 + ["failed"] * 4 + ["pending"] * 6
    chunk = []
    for n in range(rows):
        chunk.append(
            {
                "l": 1 + n % 20,
                "e": ("cliente", "produto", "venda")[n % 3],
                "i": n,
                "p": rng.choice((0, 0, 0, 0, 5, 10)),
                "s": rng.choice(statuses),
            }
        )
        if len(chunk) == 20_000 or n == rows - 1:
            with database.begin() as conn:
                conn.execute(
                    sa.text(
                        "INSERT INTO crm_sync_queue (id_loja, entidade, id_registro, direcao, "
                        "prioridade, status) VALUES (:l, :e, :i, 'ecletech_para_crm', :p, :s)"
                    ),
                    chunk,
                )
            chunk = []
    with database.begin() as conn:
        conn.execute(sa.text("ANALYZE TABLE crm_sync_queue"))


def main() -> list[dict]:
    args = arguments(__doc__)
    rows_wanted = 100_000 if args.quick else 1_000_000
    with scratch_database("mariadb") as url:
        database = open_database(url)
        migrate(Settings(source="bench", database_url=url), database)
        fill(database, rows_wanted)
        timings = []
        for n in range(21):
            started = time.perf_counter()
            items = claim(database, owner=f"b{n}", limit=100, lease_seconds=60)
            timings.append((time.perf_counter() - started) * 1000)
            release(database, items, f"b{n}")
        sql = str(
            claim_select(100, bind=database)
            .with_for_update(skip_locked=True)
            .compile(database, compile_kwargs={"literal_binds": True})
        )
        with database.connect() as conn:
            plan = conn.execute(sa.text("EXPLAIN " + sql)).mappings().first()
        database.dispose()
    ms = median(timings)
    rows = [
        {
            "id": "P3",
            "what": f"claim of 100 with {rows_wanted:,} rows",
            "backend": "mariadb",
            "result": f"median {ms:.1f} ms; plan key={plan['key']}, Extra={plan['Extra']}",
            "target": "< 20 ms, idx_claim, no filesort",
            "ok": ms < 20
            and plan["key"] == "idx_claim"
            and "filesort" not in (plan["Extra"] or ""),
        }
    ]
    report(rows, args.json)
    return rows


if __name__ == "__main__":
    main()
