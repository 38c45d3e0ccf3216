"""P2: pacing. Items against the emulator enforcing the provider's limit (429 past it):
one run, then 4 overlapping runs, restarted like cron until the queue is drained.

Ideal wall = requests / limit; the ratio is wall / ideal.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

from common import SECRET, arguments, report, scratch_database, shop

from crm_cli.demo import sample_erp
from crm_cli.engine.queue import enqueue
from crm_cli.engine.queue.admin import pending_count
from crm_cli.providers.gestao_click.emulator import GestaoClickEmulator


def drain(url: str, database, processes: int) -> float:
    env = {**os.environ, "CRM_DATABASE_URL": url, "JWT_SECRET": SECRET}
    started = time.perf_counter()
    while pending_count(database):
        runs = [
            subprocess.Popen(
                [sys.executable, "-m", "crm_cli", "sync"], env=env, stdout=subprocess.DEVNULL
            )
            for _ in range(processes)
        ]
        for run in runs:
            run.wait()
    return time.perf_counter() - started


def case(backend: str, rate: float, items: int, processes: int) -> dict:
    with scratch_database(backend) as url, GestaoClickEmulator(rate=rate) as emulator:
        database = shop(url, emulator, rate_limit_per_second=rate)
        for record_id in sample_erp.add_clientes(database, items):
            enqueue(database, id_loja=1, entidade="cliente", id_registro=record_id)
        wall = drain(url, database, processes)
        stats = emulator.stats()
        database.dispose()
    ideal = stats["requests"] / rate
    limit = 1.1 if processes == 1 else 1.15
    return {
        "id": "P2",
        "what": f"{items} items, {processes} run(s), limit {rate:g} req/s",
        "backend": backend,
        "result": f"{wall:.1f} s, {stats['rate_limited']} × 429, "
        f"max {stats['max_per_second']} req in 1 s",
        "baseline": f"ideal {ideal:.1f} s",
        "ratio": f"{wall / ideal:.2f}",
        "target": f"≤ {limit} × ideal, no 429",
        "ok": wall <= limit * ideal and stats["rate_limited"] == 0,
    }


def main() -> list[dict]:
    args = arguments(__doc__)
    rate, (one, many) = (3.0, (60, 120)) if args.quick else (3.0, (100, 400))
    rows = [case(args.backend, rate, one, 1), case(args.backend, rate, many, 4)]
    report(rows, args.json)
    return rows


if __name__ == "__main__":
    main()
