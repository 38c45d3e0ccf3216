"""Shared fixtures: every database test runs on SQLite and on a real MariaDB.

MariaDB comes from $CRM_TEST_MYSQL_URL (default mysql+pymysql://root@127.0.0.1:3306/);
each test gets a fresh database, dropped afterwards. When CI=true (or
CRM_TEST_REQUIRE_MARIADB=1) an unreachable MariaDB fails the run instead of
skipping its half of the tests.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from crm_cli.cli import app

MYSQL_SERVER_URL = os.environ.get("CRM_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/")
REQUIRE_MARIADB = (
    os.environ.get("CI") == "true" or os.environ.get("CRM_TEST_REQUIRE_MARIADB") == "1"
)


def _mariadb_problem() -> str | None:
    engine = sa.create_engine(MYSQL_SERVER_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        return None
    except sa.exc.SQLAlchemyError as exc:
        return str(exc).splitlines()[0]
    finally:
        engine.dispose()


MARIADB_PROBLEM = _mariadb_problem()


def pytest_sessionstart(session: pytest.Session) -> None:
    if REQUIRE_MARIADB and MARIADB_PROBLEM:
        raise pytest.UsageError(
            f"MariaDB is required (CI=true) but unreachable at {MYSQL_SERVER_URL}: "
            f"{MARIADB_PROBLEM}"
        )


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


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the developer's own config or database."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    for name in ("CRM_CONFIG", "CRM_DATABASE_URL", "JWT_SECRET"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def db_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """URL of a fresh, empty database on the backend under test."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'crm.sqlite3'}"
        return
    name = f"crmtest_{uuid.uuid4().hex[:12]}"
    server = sa.create_engine(MYSQL_SERVER_URL)
    with server.begin() as conn:
        conn.execute(
            sa.text(f"CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        )
    try:
        yield (
            sa.engine.make_url(MYSQL_SERVER_URL)
            .set(database=name)
            .render_as_string(hide_password=False)
        )
    finally:
        with server.begin() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name}"))
        server.dispose()


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.Engine]:
    from crm_cli.db.engine import create_db_engine

    eng = create_db_engine(db_url)
    yield eng
    eng.dispose()


class Cli:
    """Runs crm-cli in-process, as an operator would, against one database."""

    def __init__(self, db_url: str | None) -> None:
        self.db_url = db_url
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None, env: dict | None = None):
        full_env = {"CRM_DATABASE_URL": self.db_url} if self.db_url else {}
        full_env.update(env or {})
        return self.runner.invoke(app, list(args), input=input, env=full_env)


@pytest.fixture
def cli(db_url: str) -> Cli:
    return Cli(db_url)


@pytest.fixture
def bare_cli() -> Cli:
    """crm-cli with no database configured: the embedded default applies."""
    return Cli(None)


SECRET = "s3cr3t-jwt-for-tests"


@pytest.fixture
def migrated(cli, engine, monkeypatch):
    """A migrated database, with the credentials secret set."""
    monkeypatch.setenv("JWT_SECRET", SECRET)
    result = cli("migrate")
    assert result.exit_code == 0, result.stderr
    return engine


@pytest.fixture
def gc_emulator():
    from crm_cli.providers.gestao_click.emulator import GestaoClickEmulator

    with GestaoClickEmulator(slow_seconds=1.5) as emulator:
        yield emulator


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


@pytest.fixture
def gc_store(cli, migrated, gc_emulator):
    """Store 1 on the GestãoClick emulator, unpaced (tests that pace say so)."""
    configure_emulated_store(cli, 1, gc_emulator)
    return 1


@pytest.fixture
def erp(migrated):
    """The ERP's tables (clientes, produtos, vendas) in the migrated database."""
    from crm_cli.demo import sample_erp as erp_tables

    erp_tables.create(migrated)
    return migrated


@pytest.fixture
def shop(cli, erp, gc_store):
    """A shop: ERP tables, CRM tables, and store 1 on the GestãoClick emulator."""
    return erp


def queue_rows(engine, *columns: str) -> list[tuple]:
    cols = ", ".join(columns or ("id", "status", "tentativas", "processado"))
    with engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(sa.text(f"SELECT {cols} FROM crm_sync_queue ORDER BY id"))
        ]


def php_enqueue(
    engine, ids, entidade="cliente", loja=1, prioridade=0, direcao="ecletech_para_crm"
) -> None:
    """Queue rows as the PHP application inserts them: the original columns only."""
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO crm_sync_queue (id_loja, entidade, id_registro, direcao, prioridade) "
                "VALUES (:l, :e, :i, :d, :p)"
            ),
            [{"l": loja, "e": entidade, "i": i, "d": direcao, "p": prioridade} for i in ids],
        )


def sync_back_renamed_product_and_sale(cli, engine, loja: int, product_id: int) -> None:
    """Bring product ``product_id`` and sale 1 back from the CRM, where a test renamed
    the product (price 42.5) and set the sale's total to 123.45; check the ERP has them."""
    php_enqueue(engine, [product_id], entidade="produto", loja=loja, direcao="crm_para_ecletech")
    php_enqueue(engine, [1], entidade="venda", loja=loja, direcao="crm_para_ecletech")
    cli("sync")

    with engine.connect() as conn:
        assert tuple(conn.execute(sa.text("SELECT nome, valor_venda FROM produtos")).one()) == (
            "Renamed",
            pytest.approx(42.5),
        )
        assert float(conn.execute(sa.text("SELECT valor_total FROM vendas")).scalar()) == 123.45
    assert {r[1] for r in queue_rows(engine)} == {"completed"}


def run_cli_process(args, db_url, config=None, env=None):
    """crm-cli as cron starts it: a separate process."""
    import subprocess
    import sys

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


@pytest.fixture
def pd_emulator():
    from crm_cli.providers.pipedrive.emulator import PipedriveEmulator

    with PipedriveEmulator(slow_seconds=1.5) as emulator:
        yield emulator


@pytest.fixture
def bling_emulator():
    from crm_cli.providers.bling.emulator import BlingEmulator

    with BlingEmulator(slow_seconds=1.5) as emulator:
        yield emulator


@pytest.fixture
def pd_shop(cli, erp, pd_emulator):
    """ERP tables and store 2 on the Pipedrive emulator (unpaced)."""
    configure_emulated_store(cli, 2, pd_emulator)
    return erp


@pytest.fixture
def bling_shop(cli, erp, bling_emulator):
    """ERP tables and store 3 on the Bling emulator (unpaced)."""
    configure_store(
        cli,
        3,
        "bling",
        bling_emulator.credentials,
        api_base_url=f"{bling_emulator.url}/Api/v3",
        rate_limit_per_second=0,
        timeout_seconds=0.5,
    )
    return erp
