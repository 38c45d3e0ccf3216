"""Integration fixtures: every database test runs on SQLite and on a real MariaDB,
against the providers' emulators as real HTTP servers on loopback.

Each test gets a database of its own (dropped afterwards); a migrated one is a
copy of a template migrated once per session (``databases``). The emulators
serve the whole session and are put back as they started before every test
(``BaseEmulator.reset``): no records, counters, faults or hooks carry over.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.integration import databases
from tests.integration.support import (
    BACKENDS,
    MARIADB_PROBLEM,
    MYSQL_SERVER_URL,
    REQUIRE_MARIADB,
    SECRET,
    Cli,
    configure_emulated_store,
    configure_store,
)
from tests.official_schemas import violations


def pytest_sessionstart(session: pytest.Session) -> None:
    if REQUIRE_MARIADB and MARIADB_PROBLEM:
        raise pytest.UsageError(
            f"MariaDB is required (CI=true) but unreachable at {MYSQL_SERVER_URL}: "
            f"{MARIADB_PROBLEM}"
        )


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def db_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """URL of a fresh, empty database on the backend under test."""
    if backend == "sqlite":
        yield databases.sqlite_url(tmp_path / "crm.sqlite3")
        return
    url = databases.new_mariadb_database()
    try:
        yield url
    finally:
        databases.drop_mariadb_database(url)


@pytest.fixture
def database(db_url: str) -> Iterator[sa.Engine]:
    from crm_cli.db.backends import open_database

    eng = open_database(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def cli(db_url: str) -> Cli:
    return Cli(db_url)


@pytest.fixture
def bare_cli() -> Cli:
    """crm-cli with no database configured: the embedded default applies."""
    return Cli(None)


@pytest.fixture(scope="session")
def migrated_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """Per backend, a database ``crm-cli migrate`` made, built on first use."""
    made: dict[str, databases.Template] = {}

    def template(backend: str) -> databases.Template:
        if backend not in made:
            if backend == "sqlite":
                url = databases.sqlite_url(tmp_path_factory.mktemp("template") / "t.sqlite3")
            else:
                url = databases.new_mariadb_database()
            result = Cli(url)("migrate")
            assert result.exit_code == 0, result.stderr
            made[backend] = databases.Template(url)
        return made[backend]

    yield template
    for backend, each in made.items():
        if backend != "sqlite":
            databases.drop_mariadb_database(each.url)


@pytest.fixture
def migrated(backend, db_url, database, migrated_templates, monkeypatch):
    """A migrated database (a copy of what ``crm-cli migrate`` makes), with the
    credentials secret set."""
    monkeypatch.setenv("JWT_SECRET", SECRET)
    migrated_templates(backend).copy_into(db_url)
    return database


# -- the emulators: one server each per session, reset for every test ---------------


def _session_emulator(emulator_class):
    with emulator_class(slow_seconds=1.5) as emulator:
        yield emulator


@pytest.fixture(scope="session")
def _gc_server():
    from crm_cli.providers.gestao_click.emulator import GestaoClickEmulator

    yield from _session_emulator(GestaoClickEmulator)


@pytest.fixture(scope="session")
def _gc_server_b():
    """A second GestãoClick account (another emulator): a second store's CRM."""
    from crm_cli.providers.gestao_click.emulator import GestaoClickEmulator

    yield from _session_emulator(GestaoClickEmulator)


@pytest.fixture(scope="session")
def _pd_server():
    from crm_cli.providers.pipedrive.emulator import PipedriveEmulator

    yield from _session_emulator(PipedriveEmulator)


@pytest.fixture(scope="session")
def _bling_server():
    from crm_cli.providers.bling.emulator import BlingEmulator

    yield from _session_emulator(BlingEmulator)


def _checked(server, request):
    """The session's emulator, clean for one test; afterwards every request crm-cli
    sent it and every answer it gave are held against the provider's official
    schema (tests/official_schemas.py): a violation fails the test. A test marked
    ``sends_refused_requests`` makes crm-cli send what the CRM refuses, on purpose:
    only the answers are judged."""
    server.reset()
    yield server
    on_purpose = request.node.get_closest_marker("sends_refused_requests") is not None
    problems = violations(server, requests_too=not on_purpose)
    server.reset()
    if problems:
        shown = "\n  ".join(problems[:15])
        pytest.fail(
            f"{len(problems)} exchange(s) the official {server.name} schema refuses:\n  {shown}"
        )


@pytest.fixture
def gc_emulator(_gc_server, request):
    yield from _checked(_gc_server, request)


@pytest.fixture
def gc_emulator_b(_gc_server_b, request):
    yield from _checked(_gc_server_b, request)


@pytest.fixture
def pd_emulator(_pd_server, request):
    yield from _checked(_pd_server, request)


@pytest.fixture
def bling_emulator(_bling_server, request):
    yield from _checked(_bling_server, request)


# -- shops: ERP tables and stores on the emulators -----------------------------------


@pytest.fixture
def store_1_owns_shared_rows(tmp_path, monkeypatch):
    """Stores on several CRM accounts share the ERP's clients and products: the
    configuration says whose CRM ids their external_id column holds (store 1's), as a
    shop's must (test_stores). For tests about something else."""
    config = tmp_path / "owners.yaml"
    config.write_text(
        "entities:\n  cliente:\n    external_id_store: 1\n  produto:\n    external_id_store: 1\n"
    )
    monkeypatch.setenv("CRM_CONFIG", str(config))
    return config


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


FREIGHT_PRODUCT = 9000  # the Pipedrive account's product for freight lines


@pytest.fixture
def pd_shop(cli, erp, pd_emulator):
    """ERP tables and store 2 on the Pipedrive emulator (unpaced)."""
    configure_emulated_store(cli, 2, pd_emulator)
    return erp


@pytest.fixture
def pd_freight(cli, pd_shop, pd_emulator) -> int:
    """Store 2's sales send their freight as lines of the account's "Frete" product."""
    pd_emulator.seed("products", {"id": FREIGHT_PRODUCT, "name": "Frete", "code": "FRETE"})
    configure_emulated_store(cli, 2, pd_emulator, freight_product_id=FREIGHT_PRODUCT)
    return FREIGHT_PRODUCT


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
