"""``crm-cli demo``: the whole product in a minute, offline.

A throw-away SQLite database with sample ERP data, the GestãoClick emulator on
a free loopback port (enforcing the real 3 requests/s), a store configured
against it, a full sync of clients and products, cron-style runs until the
queue is drained, and the stats. Nothing of the operator's is read or touched.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crm_cli.credentials import CredentialCipher
from crm_cli.db.backends import open_database
from crm_cli.db.migrator import migrate
from crm_cli.demo import sample_erp
from crm_cli.engine.queue.admin import pending_count
from crm_cli.engine.run import RunResult, SyncRun
from crm_cli.integrations import Integracoes
from crm_cli.services.full_sync import full_sync
from crm_cli.services.stats import collect
from crm_cli.settings import Settings

DEMO_SECRET = "crm-cli-demo-secret"  # encrypts the demo store's credentials only
MAX_RUNS = 20


@dataclass
class DemoResult:
    runs: list[RunResult]
    stats: dict[str, Any]
    emulator: dict[str, Any]
    database: str
    emulator_port: int = 0


def sample_tables_in(database: Any) -> list[str]:
    """The sample ERP's tables a database has already (``demo --database`` refuses
    to add its rows to a shop's own without --force)."""
    import sqlalchemy as sa

    present = set(sa.inspect(database).get_table_names())
    return sorted(set(sample_erp.metadata.tables) & present)


def run_demo(
    say: Callable[[str], None],
    clients: int = 20,
    products: int = 15,
    keep: bool = False,
    on_run: Callable[[RunResult], None] | None = None,
    on_item: Callable[[Any, Any], None] | None = None,
    database_url: str | None = None,
    port: int = 0,
) -> DemoResult:
    """The demonstration; with ``database_url``, in that database (kept, its store
    pointing at an emulator on ``port`` that ``crm-cli emulator`` starts again)."""
    from crm_cli.db.backends import display_url
    from crm_cli.providers.gestao_click.emulator import GestaoClickEmulator

    workdir = Path(tempfile.mkdtemp(prefix="crm-cli-demo-"))
    url = database_url or f"sqlite:///{workdir / 'demo.sqlite3'}"
    shown = display_url(url) if database_url else str(workdir / "demo.sqlite3")
    settings = Settings(source="demo", database_url=url)
    database = open_database(url)
    emulator = GestaoClickEmulator(rate=3, port=port).start()
    try:
        say(f"1. Sample ERP database: {shown}")
        sample_erp.create(database)
        sample_erp.add_clientes(database, clients)
        sample_erp.add_produtos(database, products)
        migrate(settings, database)
        say(f"   {clients} clients and {products} products; CRM tables created (crm-cli migrate)")
        say(f"2. GestãoClick emulator on {emulator.url} (3 requests/s, like the real API)")
        cipher = CredentialCipher(DEMO_SECRET, "demo")
        Integracoes(database, cipher).salvar_configuracao(
            1, "gestao_click", emulator.credentials, {"api_base_url": emulator.url}
        )
        say("3. Store 1 configured (crm-cli config set), credentials encrypted")
        queued = sum(
            r.queued
            for entity in ("cliente", "produto")
            for r in full_sync(database, settings, Integracoes(database, cipher), entity)
        )
        say(f"4. {queued} items queued (crm-cli full-sync); cron-style sync runs:")
        runs = []
        while pending_count(database) and len(runs) < MAX_RUNS:
            runs.append(SyncRun(database, settings, cipher, on_item=on_item).run())
            if on_run:
                on_run(runs[-1])
        return DemoResult(
            runs, collect(database), emulator.stats(), shown, int(emulator.url.rsplit(":", 1)[1])
        )
    finally:
        emulator.stop()
        database.dispose()
        if not keep or database_url:
            shutil.rmtree(workdir, ignore_errors=True)
