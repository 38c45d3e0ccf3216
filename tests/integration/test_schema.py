"""The database after ``crm-cli migrate`` has exactly the schema the PHP application uses."""

from __future__ import annotations

import pytest

from tests.integration import dbinspect
from tests.integration.schema_spec import (
    CLAIM_INDEX,
    ORIGINAL_INDEXES,
    V3_QUEUE_INDEXES,
    expected_columns,
)
from tests.integration.support import MARIADB_ONLY


@pytest.fixture
def migrated(cli, database):
    result = cli("migrate")
    assert result.exit_code == 0, result.stderr
    return database


def _expected(database, table):
    cols = expected_columns()[table]
    if database.dialect.name == "sqlite":
        # SQLite has neither ON UPDATE nor MySQL's type names.
        return [c._replace(type=dbinspect.sqlite_type(c.type), on_update=False) for c in cols]
    return cols


@pytest.mark.parametrize("table", ["crm_integracoes", "crm_sync_queue", "crm_sync_log"])
def test_columns_match_the_original_plus_additions(migrated, table):
    assert dbinspect.columns(migrated, table) == _expected(migrated, table)


@pytest.mark.parametrize("table", ["crm_integracoes", "crm_sync_queue", "crm_sync_log"])
def test_index_names_and_columns_match_the_original(migrated, table):
    expected = dict(ORIGINAL_INDEXES[table])
    if table == "crm_sync_queue":
        expected[CLAIM_INDEX[0]] = CLAIM_INDEX[1]
        expected.update(V3_QUEUE_INDEXES)
    if migrated.dialect.name == "sqlite":  # SQLite index names are per database
        expected = {
            (name if unique else f"{table}_{name}"): spec
            for name, spec in expected.items()
            for unique in [spec[0]]
        }
    assert dbinspect.indexes(migrated, table) == expected


@pytest.mark.parametrize("backend", MARIADB_ONLY)
@pytest.mark.parametrize("table", ["crm_integracoes", "crm_sync_queue", "crm_sync_log"])
def test_mysql_tables_are_innodb_utf8mb4_unicode_ci(migrated, table):
    assert dbinspect.table_options(migrated, table) == ("InnoDB", "utf8mb4_unicode_ci")
