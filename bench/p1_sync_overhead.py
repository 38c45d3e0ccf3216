"""P1: per-item overhead of one `crm-cli sync` run: 100 creates, emulator without limits.

Baseline measured in the same run (the floor): the same number of bare HTTP
round trips to the emulator plus two indexed row updates each. A run of one
create before it tells what a run pays once (imports, reflection, connections),
so the per-item cost after the first is shown too: (run of 100 - run of 1) / 99.
"""

from __future__ import annotations

import time

import requests
import sqlalchemy as sa
from common import arguments, crm_cli, report, run_tempo, scratch_database, shop

from crm_cli.demo import sample_erp
from crm_cli.engine.queue import enqueue
from crm_cli.providers.gestao_click.emulator import GestaoClickEmulator

ITEMS = 100


def floor_seconds(database: sa.Engine, emulator: GestaoClickEmulator, ids: list[int]) -> float:
    session = requests.Session()
    headers = {
        "access-token": emulator.credentials["access_token"],
        "secret-access-token": emulator.credentials["secret_access_token"],
    }
    started = time.perf_counter()
    for n, record_id in enumerate(ids):
        answer = session.post(
            f"{emulator.url}/clientes",
            headers=headers,
            json={"tipo_pessoa": "PF", "nome": f"floor {n}"},
        ).json()
        with database.begin() as conn:
            conn.execute(
                sa.text("UPDATE clientes SET nome = :n WHERE id = :i"),
                {"n": answer["data"]["id"], "i": record_id},
            )
        with database.begin() as conn:
            conn.execute(
                sa.text("UPDATE crm_sync_queue SET erro = :n WHERE id = :i"), {"n": "x", "i": n + 1}
            )
    return time.perf_counter() - started


def main() -> list[dict]:
    args = arguments(__doc__)
    with scratch_database(args.backend) as url, GestaoClickEmulator() as emulator:
        database = shop(url, emulator, rate_limit_per_second=0, daily_limit=0)
        [single] = sample_erp.add_clientes(database, 1, start=ITEMS + 1)
        enqueue(database, id_loja=1, entidade="cliente", id_registro=single)
        one_item = run_tempo(crm_cli(url, "sync")[0])
        ids = sample_erp.add_clientes(database, ITEMS)
        for record_id in ids:
            enqueue(database, id_loja=1, entidade="cliente", id_registro=record_id)
        out, wall = crm_cli(url, "sync")
        seconds = run_tempo(out)
        floor = floor_seconds(database, emulator, ids)
        database.dispose()
    rate = ITEMS / seconds
    each = (seconds - one_item) / (ITEMS - 1)
    rows = [
        {
            "id": "P1",
            "what": f"sync of {ITEMS} creates, no rate limit",
            "backend": args.backend,
            "result": f"{rate:.0f} items/s ({seconds:.2f} s in the run, {wall:.2f} s in all; "
            f"a run of 1: {one_item:.2f} s, then {each * 1000:.1f} ms per item)",
            "baseline": f"floor {ITEMS / floor:.0f} items/s ({floor:.2f} s)",
            "ratio": f"{seconds / floor:.2f}× the floor",
            "target": "≥ 300 items/s",
            "ok": rate >= 300,
        }
    ]
    report(rows, args.json)
    return rows


if __name__ == "__main__":
    main()
