"""P8: what broken stores cost the healthy ones.

10 stores, each on its own emulator account at 3 requests/s; cron-like: every
minute 4 overlapping `crm-cli sync` runs start (real minutes, the default
50 s budget). Once with every store healthy, once with store 9's CRM down
(connection refused: nothing listens on its port) and store 10's hanging
(accepts, never answers within the 30 s read timeout). The figure is the
healthy stores' (1-8) items completed per minute; the target is that the
broken stores cost them less than 10 %.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import sqlalchemy as sa
from common import SECRET, arguments, report, scratch_database

from crm_cli.credentials import CredentialCipher
from crm_cli.db.backends import open_database
from crm_cli.db.migrator import migrate
from crm_cli.demo import sample_erp
from crm_cli.integrations import Integracoes
from crm_cli.providers.gestao_click.emulator import GestaoClickEmulator
from crm_cli.settings import Settings

STORES, HEALTHY, RUNS, RATE = 10, 8, 4, 3.0
MINUTE = 60.0


def free_port() -> int:
    """A loopback port nothing listens on: connections to it are refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def setup(url: str, emulators: list[GestaoClickEmulator], broken: bool, per_store: int):
    database = open_database(url)
    sample_erp.create(database)
    migrate(Settings(source="bench", database_url=url), database)
    stores = Integracoes(database, CredentialCipher(SECRET, "JWT_SECRET"))
    for loja, emulator in enumerate(emulators, start=1):
        base = emulator.url
        if broken and loja == 9:
            base = f"http://127.0.0.1:{free_port()}"
        stores.salvar_configuracao(
            loja, "gestao_click", emulator.credentials, {"api_base_url": base}
        )
    if broken:
        emulators[9].down = "hang"
    # one client per item, interleaved by store as the PHP application would queue them
    ids = sample_erp.add_clientes(database, STORES * per_store)
    rows = [{"l": (n % STORES) + 1, "i": record_id, "p": 5} for n, record_id in enumerate(ids)]
    with database.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO crm_sync_queue (id_loja, entidade, id_registro, direcao, prioridade)"
                " VALUES (:l, 'cliente', :i, 'ecletech_para_crm', :p)"
            ),
            rows,
        )
    return database


def healthy_done(database) -> int:
    with database.connect() as conn:
        return conn.execute(
            sa.text(
                "SELECT COUNT(*) FROM crm_sync_queue WHERE status = 'completed' AND id_loja <= :h"
            ),
            {"h": HEALTHY},
        ).scalar_one()


def cron(url: str, database, minutes: int) -> list[int]:
    """Start RUNS overlapping runs at each minute; healthy items done after each minute."""
    env = {**os.environ, "CRM_DATABASE_URL": url, "JWT_SECRET": SECRET}
    started = time.monotonic()
    running: list[subprocess.Popen] = []
    done = []
    for minute in range(minutes):
        running += [
            subprocess.Popen(
                [sys.executable, "-m", "crm_cli", "sync"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(RUNS)
        ]
        time.sleep(max(0.0, started + (minute + 1) * MINUTE - time.monotonic()))
        done.append(healthy_done(database))
    for run in running:
        run.wait(timeout=120)
    return done


def scenario(backend: str, broken: bool, minutes: int, per_store: int) -> float:
    emulators = [
        GestaoClickEmulator(
            rate=RATE,
            slow_seconds=35,
            credentials={"access_token": f"bench-a-{n}", "secret_access_token": f"bench-s-{n}"},
        ).start()
        for n in range(STORES)
    ]
    for n, emulator in enumerate(emulators):
        # ids of their own: the ERP's one external_id column holds every store's
        emulator.next_id["clientes"] = n * 100_000
    try:
        with scratch_database(backend) as url:
            database = setup(url, emulators, broken, per_store)
            done = cron(url, database, minutes)
            database.dispose()
    finally:
        for emulator in emulators:
            emulator.stop()
    return done[-1] / minutes


def main() -> list[dict]:
    args = arguments(__doc__)
    minutes = 2 if args.quick else 3
    per_store = 150  # more than the runs can take in those minutes: the queue never drains
    healthy = scenario(args.backend, False, minutes, per_store)
    broken = scenario(args.backend, True, minutes, per_store)
    cost = 1 - broken / healthy if healthy else 1.0
    rows = [
        {
            "id": "P8",
            "what": f"stores 1-8 beside one CRM down and one hanging, {RUNS} runs a minute, "
            f"{minutes} min",
            "backend": args.backend,
            "result": f"{broken:.0f} items/min",
            "baseline": f"all healthy {healthy:.0f} items/min",
            "ratio": f"{broken / healthy:.2f}" if healthy else "-",
            "target": "cost < 10 %",
            "ok": cost < 0.10,
        }
    ]
    report(rows, args.json)
    return rows


if __name__ == "__main__":
    main()
