"""``crm-cli migrate``: create, upgrade, adopt, idempotence, external_id, --sql, errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from crm_cli.db.migrator import head_revision
from tests.integration import databases, dbinspect
from tests.integration.schema_spec import expected_columns
from tests.integration.support import MARIADB_ONLY, Cli

FIXTURES = Path(__file__).parent / "fixtures"
CRM_TABLES = ("crm_integracoes", "crm_sync_queue", "crm_sync_log")


def run_sql_file(database: sa.Engine, name: str) -> None:
    script = (FIXTURES / name).read_text()
    statements = [s for s in script.split(";") if s.strip().strip("-").strip()]
    with database.begin() as conn:
        for statement in statements:
            lines = [ln for ln in statement.splitlines() if not ln.strip().startswith("--")]
            if any(ln.strip() for ln in lines):
                conn.exec_driver_sql("\n".join(lines))


def snapshot(database: sa.Engine) -> dict:
    return {
        t: (dbinspect.columns(database, t), dbinspect.indexes(database, t))
        for t in sorted(dbinspect.table_names(database))
    }


def version(database: sa.Engine) -> str:
    with database.connect() as conn:
        return conn.execute(sa.text("SELECT version_num FROM crm_cli_alembic_version")).scalar()


def test_first_run_creates_and_second_run_changes_nothing(cli, database):
    first = cli("migrate")
    assert first.exit_code == 0, first.stderr
    assert "Applied revision 0001" in first.stdout
    assert "Applied revision 0002" in first.stdout
    before = snapshot(database)

    second = cli("migrate")

    assert second.exit_code == 0, second.stderr
    assert "Nothing to do" in second.stdout
    assert "Applied" not in second.stdout
    assert snapshot(database) == before
    assert version(database) == head_revision()


def test_the_tests_migrated_database_is_what_migrate_makes(migrated, backend, tmp_path):
    """The ``migrated`` fixture copies a template: the copy must be what ``crm-cli
    migrate`` makes, foreign keys and table options included, or every test built on
    it proves less."""
    if backend == "sqlite":
        fresh_url = databases.sqlite_url(tmp_path / "fresh.sqlite3")
    else:
        fresh_url = databases.new_mariadb_database()
    fresh = sa.create_engine(fresh_url)
    try:
        result = Cli(fresh_url)("migrate")
        assert result.exit_code == 0, result.stderr
        assert snapshot(migrated) == snapshot(fresh)
        assert version(migrated) == version(fresh) == head_revision()
        for table in dbinspect.table_names(fresh):
            assert _foreign_keys(migrated, table) == _foreign_keys(fresh, table)
            if backend != "sqlite":
                assert dbinspect.table_options(migrated, table) == dbinspect.table_options(
                    fresh, table
                )
    finally:
        fresh.dispose()
        if backend != "sqlite":
            databases.drop_mariadb_database(fresh_url)


def _foreign_keys(database: sa.Engine, table: str) -> list:
    keys = sa.inspect(database).get_foreign_keys(table)
    return sorted(
        (k["constrained_columns"], k["referred_table"], k["referred_columns"]) for k in keys
    )


def test_adopts_the_schema_made_by_the_php_application(cli, database, backend):
    run_sql_file(database, f"crm_tables.{'sqlite' if backend == 'sqlite' else 'mysql'}.sql")
    with database.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO crm_sync_queue (id_loja, entidade, id_registro, direcao, processado, "
            "tentativas, erro) VALUES "
            "(1, 'cliente', 10, 'ecletech_para_crm', 0, 0, NULL),"
            "(1, 'cliente', 11, 'ecletech_para_crm', 1, 1, NULL),"
            "(1, 'cliente', 12, 'ecletech_para_crm', 1, 3, 'HTTP 500')"
        )

    result = cli("migrate")

    assert result.exit_code == 0, result.stderr
    assert "Adopted the CRM tables created by the PHP application" in result.stdout
    assert "Applied revision 0002" in result.stdout
    assert "0001" not in [
        line.split()[2]
        for line in result.stdout.splitlines()
        if line.startswith("Applied revision")
    ]
    assert version(database) == head_revision()
    with database.connect() as conn:
        statuses = conn.execute(
            sa.text("SELECT id_registro, status FROM crm_sync_queue ORDER BY id_registro")
        ).all()
    # finished rows stay finished; a row the original "processed" after its
    # third failure is recognised as failed, not counted as a success
    assert statuses == [(10, "pending"), (11, "completed"), (12, "failed")]
    names = [c.name for c in dbinspect.columns(database, "crm_sync_queue")]
    assert names == [c.name for c in expected_columns()["crm_sync_queue"]]


def test_php_style_insert_still_works_after_migrate(cli, database):
    assert cli("migrate").exit_code == 0
    with database.begin() as conn:  # exactly the columns the PHP application names
        conn.exec_driver_sql(
            "INSERT INTO crm_sync_queue (id_loja, entidade, id_registro, direcao, prioridade) "
            "VALUES (3, 'produto', 7, 'ecletech_para_crm', 5)"
        )
        conn.exec_driver_sql(
            "INSERT INTO crm_integracoes (id_loja, provider, credenciais) VALUES (3, 'bling', 'x')"
        )
        row = conn.execute(
            sa.text("SELECT status, tentativas, processado, criado_em FROM crm_sync_queue")
        ).one()
    assert row.status == "pending"
    assert (row.tentativas, row.processado) == (0, 0)
    assert row.criado_em is not None


def test_refuses_a_partial_crm_schema(cli, database):
    with database.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE crm_sync_log (id INTEGER PRIMARY KEY)")

    result = cli("migrate")

    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert "crm_sync_log but not crm_integracoes, crm_sync_queue" in result.stderr
    assert dbinspect.table_names(database) == {"crm_sync_log"}


def _host_tables(database: sa.Engine) -> None:
    with database.begin() as conn:
        # the real application: external_id VARCHAR(50) with a UNIQUE key
        conn.exec_driver_sql(
            "CREATE TABLE clientes (id INTEGER PRIMARY KEY, nome VARCHAR(100), "
            "external_id VARCHAR(50), CONSTRAINT uk_clientes_external_id UNIQUE (external_id))"
        )
        conn.exec_driver_sql("CREATE TABLE produtos (id INTEGER PRIMARY KEY, nome VARCHAR(100))")
        conn.exec_driver_sql(
            "CREATE TABLE vendas (id INTEGER PRIMARY KEY, external_id VARCHAR(50))"
        )


def test_external_id_is_added_only_where_missing(cli, database):
    _host_tables(database)
    clientes_before = (
        dbinspect.columns(database, "clientes"),
        dbinspect.indexes(database, "clientes"),
    )

    result = cli("migrate")

    assert result.exit_code == 0, result.stderr
    assert (
        dbinspect.columns(database, "clientes"),
        dbinspect.indexes(database, "clientes"),
    ) == clientes_before
    produtos = {c.name: c for c in dbinspect.columns(database, "produtos")}
    assert produtos["external_id"].nullable
    assert produtos["external_id"].type.lower() == "varchar(100)"
    assert dbinspect.indexes(database, "produtos") == {
        "idx_produtos_external_id": (False, [("external_id", False)])
    }
    # vendas had the column but no index: only the index is added
    vendas = {c.name: c for c in dbinspect.columns(database, "vendas")}
    assert vendas["external_id"].type.lower() == "varchar(50)"
    assert "idx_vendas_external_id" in dbinspect.indexes(database, "vendas")
    assert "produtos.external_id: added column and index" in result.stdout
    assert "vendas.external_id: added index" in result.stdout
    assert "clientes" not in result.stdout
    # the configured 'atividades' table does not exist: a warning, not a crash
    assert "table 'atividades' (entity 'atividade') does not exist" in result.stderr

    again = cli("migrate")
    assert again.exit_code == 0
    assert "Nothing to do" in again.stdout


def test_entity_tables_come_from_the_config(cli, database, tmp_path):
    with database.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE customers (code INTEGER PRIMARY KEY)")
    config = tmp_path / "config.yaml"
    config.write_text("entities:\n  cliente:\n    table: customers\n    external_id: crm_ref\n")

    result = cli("--config", str(config), "migrate")

    assert result.exit_code == 0, result.stderr
    assert "crm_ref" in [c.name for c in dbinspect.columns(database, "customers")]
    assert "table 'clientes'" not in result.stderr


@pytest.mark.parametrize("backend", MARIADB_ONLY)
def test_sql_prints_the_ddl_and_touches_nothing(cli, database):
    result = cli("migrate", "--sql")

    assert result.exit_code == 0, result.stderr
    assert "CREATE TABLE crm_integracoes" in result.stdout
    assert "CREATE TABLE crm_sync_queue" in result.stdout
    assert "idx_claim" in result.stdout
    assert dbinspect.table_names(database) == set()


def test_sql_on_sqlite_is_refused_with_the_reason(bare_cli, tmp_path):
    result = bare_cli("migrate", "--sql")

    assert result.exit_code == 2
    assert "--sql is for MySQL/MariaDB" in result.stderr


@pytest.mark.parametrize("backend", MARIADB_ONLY)
def test_sql_after_migrate_says_nothing_to_do(cli, database):
    assert cli("migrate").exit_code == 0
    before = snapshot(database)

    result = cli("migrate", "--sql")

    assert result.exit_code == 0
    assert "nothing to do" in result.stdout
    assert snapshot(database) == before


@pytest.mark.parametrize(
    ("url", "cause"),
    [
        ("mysql+pymysql://root@127.0.0.1:1/crm", "cannot connect to the MySQL server"),
        ("postgresql://localhost/crm", "database backend 'postgresql' is not supported"),
        ("not a url", "database.url is not a valid SQLAlchemy URL"),
    ],
)
def test_database_errors_are_one_line_exit_1_or_2(bare_cli, url, cause):
    result = bare_cli("migrate", env={"CRM_DATABASE_URL": url})

    assert result.exit_code in (1, 2)
    assert cause in result.stderr
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("backend", MARIADB_ONLY)
def test_unknown_database_names_the_fix(bare_cli, backend):
    from tests.integration.support import MYSQL_SERVER_URL

    url = sa.engine.make_url(MYSQL_SERVER_URL).set(database="crm_no_such_db")
    result = bare_cli("migrate", env={"CRM_DATABASE_URL": url.render_as_string(False)})

    assert result.exit_code == 1
    assert "unknown database (create it first" in result.stderr


def test_embedded_default_is_a_sqlite_file(bare_cli, tmp_path):
    result = bare_cli("migrate")

    assert result.exit_code == 0, result.stderr
    db_file = tmp_path / "xdg-data" / "crm-cli" / "crm-cli.sqlite3"
    assert db_file.exists()
    assert f"sqlite:///{db_file}" in result.stdout
