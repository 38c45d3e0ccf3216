"""P9: quota efficiency in steady state. A catalogue of 10 000 clients in each CRM,
linked to the ERP; 1 % of them change per cycle, on one side. How many CRM requests
(and, for Pipedrive, API tokens: each operation's ``x-token-cost`` in its OpenAPI v2)
does crm-cli spend per changed record, in each direction?

- CRM → ERP: 1 % edited in the CRM, then ``pull`` runs until its read is done.
  Baseline, from the same run: ``import --since <today>`` (reads the whole catalogue
  and filters locally, what crm-cli had before ``pull``).
- ERP → CRM: 1 % edited in the ERP, then changed-only ``full-sync`` and ``sync`` runs
  until the queue is empty; then a ``pull``, which must write nothing back (no
  ping-pong). Baseline: ``full-sync --all`` and its runs.

The catalogue is an hour old when the cycles begin (as a shop's is), so a pull's
5-minute overlap holds only the cycle's own changes.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import sqlalchemy as sa
from common import ROOT, SECRET, arguments, report, scratch_database

from crm_cli.credentials import CredentialCipher
from crm_cli.db.backends import open_database
from crm_cli.db.migrator import migrate
from crm_cli.demo import sample_erp
from crm_cli.engine.run import SyncRun
from crm_cli.integrations import Integracoes
from crm_cli.providers.bling.emulator import BlingEmulator
from crm_cli.providers.gestao_click.emulator import GestaoClickEmulator
from crm_cli.providers.pipedrive.emulator import PipedriveEmulator
from crm_cli.services.full_sync import full_sync
from crm_cli.services.importer import run_import
from crm_cli.services.pull import run_pull
from crm_cli.settings import Settings

TARGET = 1.05
PULL_MINUTES = 5  # crontab.example's pull line
FILTERED = {"pipedrive": True, "bling": True, "gestao_click": False}
PROVIDERS = {
    "pipedrive": (PipedriveEmulator, "persons", "name"),
    "bling": (BlingEmulator, "contatos", "nome"),
    "gestao_click": (GestaoClickEmulator, "clientes", "nome"),
}


def _token_costs() -> list[tuple[str, re.Pattern[str], int]]:
    """(method, path pattern, x-token-cost) of Pipedrive's v2 operations."""
    spec = json.loads((ROOT / "tests/schemas/pipedrive-openapi-v2.json").read_text())
    costs = []
    for path, operations in spec["paths"].items():
        pattern = re.compile("^/api/v2" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$")
        for method, operation in operations.items():
            if isinstance(operation, dict) and "x-token-cost" in operation:
                costs.append((method.upper(), pattern, int(operation["x-token-cost"])))
    return costs


def tokens(emulator: Any, since: int, costs: list) -> int:
    total = 0
    for exchange in emulator.exchanges[since:]:
        for method, pattern, cost in costs:
            if exchange.method == method and pattern.match(exchange.path):
                total += cost
                break
    return total


def seed(provider: str, emulator: Any, count: int) -> None:
    """The CRM's catalogue, changed an hour ago."""
    _cls, resource, _name = PROVIDERS[provider]
    hour_ago = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)
    for n in range(count):
        record: dict[str, Any] = {"tipo_pessoa": "PF", "cpf": f"9{n:010d}", "nome": f"C{n}"}
        if provider == "pipedrive":
            record = {"name": f"C{n}", "emails": [{"value": f"c{n}@example.com"}]}
        if provider == "bling":
            record = {"nome": f"C{n}", "numeroDocumento": f"9{n:010d}", "tipo": "F"}
        stored = emulator.seed(resource, record)
        emulator.backdate(resource, stored["id"], hour_ago)


def pull_until_done(database, settings, integracoes) -> int:
    """pull runs (each at most 100 records) until nothing is left to read; the runs."""
    runs = 0
    while True:
        runs += 1
        result = run_pull(database, settings, integracoes, entidades=["cliente"])
        if not result.pending:
            return runs


def sync_until_empty(database, settings, cipher) -> int:
    runs = 0
    while True:
        with database.connect() as conn:
            pending = conn.execute(
                sa.text("SELECT COUNT(*) FROM crm_sync_queue WHERE status = 'pending'")
            ).scalar()
        if not pending:
            return runs
        SyncRun(database, settings, cipher).run()
        runs += 1


def measure(url: str, provider: str, count: int) -> dict[str, Any]:
    cls, resource, name = PROVIDERS[provider]
    changes = count // 100
    costs = _token_costs()
    with cls() as emulator:
        database = open_database(url)
        sample_erp.create(database)
        settings = Settings(source="bench", database_url=url)
        migrate(settings, database)
        cipher = CredentialCipher(SECRET, "JWT_SECRET")
        integracoes = Integracoes(database, cipher)
        base = f"{emulator.url}/Api/v3" if provider == "bling" else emulator.url
        integracoes.salvar_configuracao(
            1, provider, emulator.credentials, {"api_base_url": base, "rate_limit_per_second": 0}
        )
        seed(provider, emulator, count)
        while not run_import(database, settings, integracoes, 1, "cliente").finished:
            pass
        run_pull(database, settings, integracoes, entidades=["cliente"])  # its watermark
        ids = sorted(emulator.records[resource], key=int)
        # CRM → ERP: cycles of edits in the CRM, each followed by a pull: one cycle
        # where the CRM lists changes; where it cannot (a scan, at most every
        # sync.pull_scan_minutes), the cycles of one scan interval (5-minute pulls)
        cycles = 1 if FILTERED[provider] else settings.sync.pull_scan_minutes // PULL_MINUTES
        requests, exchanges = emulator.stats()["requests"], len(emulator.exchanges)
        pull_runs = 0
        for cycle in range(cycles):
            edited = ids[cycle::cycles] if cycles > 1 else ids[:: len(ids) // changes]
            for record_id in edited[:changes]:  # distinct records in each cycle
                emulator.edit(resource, record_id, **{name: f"Editado {record_id}"})
            if cycle == cycles - 1 and cycles > 1:  # the interval is over: a scan is due
                with database.begin() as conn:
                    conn.execute(sa.text("UPDATE crm_pull_state SET finished_at = NULL"))
            pull_runs += pull_until_done(database, settings, integracoes)
        pulled = (emulator.stats()["requests"] - requests) / cycles
        pulled_tokens = tokens(emulator, exchanges, costs) / cycles
        requests = emulator.stats()["requests"]
        while not run_import(
            database, settings, integracoes, 1, "cliente", since=dt.date.today()
        ).finished:
            pass
        baseline_pull = emulator.stats()["requests"] - requests

        # ERP → CRM: a cycle of edits in the ERP, then full-sync and sync
        with database.begin() as conn:
            rows = conn.execute(sa.text("SELECT id FROM clientes ORDER BY id")).scalars().all()
            for row_id in rows[:: len(rows) // changes][:changes]:
                conn.execute(
                    sa.text("UPDATE clientes SET nome = :n, modificado_em = :t WHERE id = :i"),
                    {"n": f"ERP {row_id}", "t": "2026-12-02 12:00:00", "i": row_id},
                )
        requests, exchanges = emulator.stats()["requests"], len(emulator.exchanges)
        full_sync(database, settings, integracoes, "cliente")
        sync_runs = sync_until_empty(database, settings, cipher)
        pushed = emulator.stats()["requests"] - requests
        pushed_tokens = tokens(emulator, exchanges, costs)
        echo = run_pull(database, settings, integracoes, entidades=["cliente"])
        requests = emulator.stats()["requests"]
        full_sync(database, settings, integracoes, "cliente", changed_only=False)
        baseline_runs = sync_until_empty(database, settings, cipher)
        baseline_push = emulator.stats()["requests"] - requests
        database.dispose()
    return {
        "changes": changes,
        "cycles": cycles,
        "pull": pulled / changes,
        "pull_tokens": pulled_tokens / changes,
        "pull_runs": pull_runs,
        "baseline_pull": baseline_pull / changes,
        "push": pushed / changes,
        "push_tokens": pushed_tokens / changes,
        "sync_runs": sync_runs,
        "baseline_push": baseline_push / changes,
        "baseline_runs": baseline_runs,
        "echo_writes": echo.applied - echo.same,
    }


def main() -> list[dict]:
    args = arguments(__doc__)
    count = 2_000 if args.quick else 10_000
    rows = []
    for provider in PROVIDERS:
        with scratch_database(args.backend) as url:
            m = measure(url, provider, count)
        pd = provider == "pipedrive"
        no_filter = provider == "gestao_click"
        rows.append(
            {
                "id": "P9",
                "what": f"{provider}: CRM → ERP requests per change ({m['changes']} of {count:,}"
                + (f" per cycle, {m['cycles']} 5-minute cycles: one scan" if no_filter else "")
                + ")",
                "backend": args.backend,
                "result": f"{m['pull']:.2f}"
                + (f" ({m['pull_tokens']:.1f} tokens)" if pd else "")
                + f", {m['pull_runs']} run(s)",
                "baseline": f"{m['baseline_pull']:.2f} (import --since)",
                "ratio": f"{m['baseline_pull'] / m['pull']:.0f}x fewer" if m["pull"] else "",
                "target": f"<= {TARGET}"
                + (" (no change filter: a scan per sync.pull_scan_minutes)" if no_filter else ""),
                "ok": m["pull"] <= TARGET,
            }
        )
        rows.append(
            {
                "id": "P9",
                "what": f"{provider}: ERP → CRM requests per change ({m['changes']} of {count:,}), "
                "and writes the next pull sends back",
                "backend": args.backend,
                "result": f"{m['push']:.2f}"
                + (f" ({m['push_tokens']:.1f} tokens)" if pd else "")
                + f", {m['sync_runs']} run(s); {m['echo_writes']} written back",
                "baseline": f"{m['baseline_push']:.2f}, {m['baseline_runs']} run(s) (--all)",
                "ratio": "",
                "target": f"<= {TARGET}; 0 written back",
                "ok": m["push"] <= TARGET and m["echo_writes"] == 0,
            }
        )
    report(rows, args.json)
    return rows


if __name__ == "__main__":
    main()
