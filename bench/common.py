"""Shared scaffolding for the benchmarks: scratch databases, a shop, timing, tables.

Not part of the test suite. Every script prints a small table and returns its
rows to ``bench/run_all`` as dicts (id, what, backend, result, target, ok).
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# Measure the tool as cron runs it: from bytecode. Python writes __pycache__ on
# a module's first import and pip byte-compiles what it installs, but where
# PYTHONDONTWRITEBYTECODE is set (this workplace sets it) every crm-cli start
# would compile the project's modules from source again: 50-80 ms here, more
# than the imports P5 compares against spend on it.
for package in ("crm_cli", "providers", "migrations"):
    compileall.compile_dir(ROOT / package, quiet=1)

from crm_cli.credentials import CredentialCipher  # noqa: E402
from crm_cli.db.backends import open_database  # noqa: E402
from crm_cli.db.migrator import migrate  # noqa: E402
from crm_cli.demo import sample_erp  # noqa: E402
from crm_cli.integrations import Integracoes  # noqa: E402
from crm_cli.settings import Settings  # noqa: E402

SECRET = "bench-secret-key"
MYSQL_SERVER_URL = os.environ.get("CRM_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/")


def arguments(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--backend", choices=("sqlite", "mariadb"), default="sqlite")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, about a minute")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    return parser.parse_args()


@contextmanager
def scratch_database(backend: str) -> Iterator[str]:
    """A fresh, empty database URL; dropped afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="crm-bench-") as tmp:
            yield f"sqlite:///{tmp}/bench.sqlite3"
        return
    name = f"crmbench_{uuid.uuid4().hex[:10]}"
    server = sa.create_engine(MYSQL_SERVER_URL)
    with server.begin() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name} CHARACTER SET utf8mb4"))
    try:
        yield sa.engine.make_url(MYSQL_SERVER_URL).set(database=name).render_as_string(False)
    finally:
        with server.begin() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name}"))
        server.dispose()


def shop(url: str, emulator: Any, loja: int = 1, **settings: Any) -> sa.Engine:
    """Migrated CRM tables, the ERP's tables, and a store on the emulator."""
    database = open_database(url)
    sample_erp.create(database)
    migrate(Settings(source="bench", database_url=url), database)
    Integracoes(database, CredentialCipher(SECRET, "JWT_SECRET")).salvar_configuracao(
        loja, "gestao_click", emulator.credentials, {"api_base_url": emulator.url, **settings}
    )
    return database


def crm_cli(url: str, *args: str, timeout: float = 600) -> tuple[str, float]:
    """Run crm-cli as cron does; its stdout and wall seconds."""
    env = {**os.environ, "CRM_DATABASE_URL": url, "JWT_SECRET": SECRET}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "crm_cli", *args],
        env=env,
        text=True,
        capture_output=True,
        timeout=timeout,
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"crm-cli {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout, wall


def run_tempo(stdout: str) -> float:
    """The run's own time from its line: '... | Tempo: 1.23s | ...'."""
    return float(stdout.split("Tempo: ")[1].split("s")[0])


def median(values: list[float]) -> float:
    return statistics.median(values)


def report(rows: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        print(json.dumps(rows))
        return
    print("| id | what | backend | result | baseline | ratio | target | ok |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['id']} | {r['what']} | {r['backend']} | {r['result']} | "
            f"{r.get('baseline', '')} | {r.get('ratio', '')} | {r['target']} | "
            f"{'yes' if r['ok'] else 'NO'} |"
        )
