"""What integration tests share besides fixtures: the backends under test, the CLI
run in-process, and helpers that act as the PHP application or an operator would.

MariaDB comes from $CRM_TEST_MYSQL_URL (default mysql+pymysql://root@127.0.0.1:3306/).
When CI=true (or CRM_TEST_REQUIRE_MARIADB=1) an unreachable MariaDB fails the
run instead of skipping its half of the tests.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from crm_cli.cli import app

MYSQL_SERVER_URL = os.environ.get("CRM_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/")
REQUIRE_MARIADB = (
    os.environ.get("CI") == "true" or os.environ.get("CRM_TEST_REQUIRE_MARIADB") == "1"
)
SECRET = "s3cr3t-jwt-for-tests"


def _mariadb_problem() -> str | None:
    database = sa.create_engine(MYSQL_SERVER_URL, connect_args={"connect_timeout": 3})
    try:
        with database.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        return None
    except sa.exc.SQLAlchemyError as exc:
        return str(exc).splitlines()[0]
    finally:
        database.dispose()


MARIADB_PROBLEM = _mariadb_problem()

BACKENDS = [
    "sqlite",
    pytest.param(
        "mariadb",
        marks=pytest.mark.skipif(
            MARIADB_PROBLEM is not None, reason=f"MariaDB unreachable: {MARIADB_PROBLEM}"
        ),
    ),
]

MARIADB_ONLY = BACKENDS[1:]  # for facts that exist only on MySQL/MariaDB (engine, collation)


class Cli:
    """Runs crm-cli in-process, as an operator would, against one database."""

    def __init__(self, db_url: str | None) -> None:
        self.db_url = db_url
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None, env: dict | None = None):
        full_env = {"CRM_DATABASE_URL": self.db_url} if self.db_url else {}
        full_env.update(env or {})
        return self.runner.invoke(app, list(args), input=input, env=full_env)


_TIME = re.compile(r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] ", re.MULTILINE)


def plain(stderr: str) -> str:
    """stderr without the time each line starts with under cron (not a terminal)."""
    return _TIME.sub("", stderr)


def configure_store(cli, loja: int, provider: str, credentials: dict, **settings) -> None:
    args = ["config", "set", "--loja", str(loja), "--provider", provider, "--credentials-file", "-"]
    for key, value in settings.items():
        args += ["--setting", f"{key}={json.dumps(value) if not isinstance(value, str) else value}"]
    result = cli(*args, input=json.dumps(credentials))
    assert result.exit_code == 0, result.stderr


def configure_emulated_store(cli, loja: int, emulator, **settings) -> None:
    """Store ``loja`` on ``emulator``, unpaced, with a short timeout, plus ``settings``."""
    base = f"{emulator.url}/Api/v3" if emulator.name == "bling" else emulator.url
    settings = {"rate_limit_per_second": 0, "timeout_seconds": 0.5, **settings}
    configure_store(cli, loja, emulator.name, emulator.credentials, api_base_url=base, **settings)


def queue_rows(database, *columns: str) -> list[tuple]:
    cols = ", ".join(columns or ("id", "status", "tentativas", "processado"))
    with database.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(sa.text(f"SELECT {cols} FROM crm_sync_queue ORDER BY id"))
        ]


def php_enqueue(
    database, ids, entidade="cliente", loja=1, prioridade=0, direcao="ecletech_para_crm"
) -> None:
    """Queue rows as the PHP application inserts them: the original columns only."""
    with database.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO crm_sync_queue (id_loja, entidade, id_registro, direcao, prioridade) "
                "VALUES (:l, :e, :i, :d, :p)"
            ),
            [{"l": loja, "e": entidade, "i": i, "d": direcao, "p": prioridade} for i in ids],
        )


def expire_leases(database) -> int:
    """Every lease held now ends: what the clock does to a dead run's items, without
    waiting for it (the next run takes them back as expired)."""
    with database.begin() as conn:
        return conn.execute(
            sa.text(
                "UPDATE crm_sync_queue SET lease_expires_at = :past WHERE status = 'processing'"
            ),
            {"past": "2000-01-01 00:00:00"},
        ).rowcount


def sync_back_renamed_product_and_sale(cli, database, loja: int, product_id: int) -> None:
    """Bring product ``product_id`` and sale 1 back from the CRM, where a test renamed
    the product (price 42.5) and set the sale's total to 123.45; check the ERP has them."""
    php_enqueue(database, [product_id], entidade="produto", loja=loja, direcao="crm_para_ecletech")
    php_enqueue(database, [1], entidade="venda", loja=loja, direcao="crm_para_ecletech")
    cli("sync")

    with database.connect() as conn:
        assert tuple(conn.execute(sa.text("SELECT nome, valor_venda FROM produtos")).one()) == (
            "Renamed",
            pytest.approx(42.5),
        )
        assert float(conn.execute(sa.text("SELECT valor_total FROM vendas")).scalar()) == 123.45
    assert {r[1] for r in queue_rows(database)} == {"completed"}


def run_cli_process(args, db_url, config=None, env=None):
    """crm-cli as cron starts it: a separate process."""
    full_env = {**os.environ, "CRM_DATABASE_URL": db_url, "JWT_SECRET": SECRET, **(env or {})}
    if config:
        full_env["CRM_CONFIG"] = str(config)
    return subprocess.Popen(
        [sys.executable, "-m", "crm_cli", *args],
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
