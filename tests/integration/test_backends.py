"""How engines connect: pure choices made from the database URL, and their effect."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from crm_cli.db.backends import _mysql_connect_args, json_text, open_database
from tests.integration.support import MARIADB_ONLY


@pytest.mark.parametrize(
    "url",
    [
        "mysql+pymysql://u:p@127.0.0.1:3306/erp",
        "mysql+pymysql://u:p@localhost/erp",
        "mysql+pymysql://u:p@/erp?unix_socket=/run/mysqld/mysqld.sock",
    ],
)
def test_no_tls_to_a_server_on_this_machine(url):
    assert _mysql_connect_args(sa.engine.make_url(url))["ssl_disabled"] is True


@pytest.mark.parametrize(
    "url",
    [
        "mysql+pymysql://u:p@db.example.com/erp",
        "mysql+pymysql://u:p@10.0.0.5/erp",
        "mysql+pymysql://u:p@127.0.0.1/erp?ssl_ca=/etc/ca.pem",
    ],
)
def test_tls_left_to_the_driver_for_remote_servers_and_explicit_ssl_options(url):
    assert "ssl_disabled" not in _mysql_connect_args(sa.engine.make_url(url))


def test_json_columns_hold_decimals_and_dates_as_text():
    from datetime import date
    from decimal import Decimal

    assert json_text({"preco": Decimal("10.50"), "dia": date(2026, 1, 2)}) == (
        '{"preco": "10.50", "dia": "2026-01-02"}'
    )


@pytest.mark.parametrize("backend", MARIADB_ONLY)
def test_a_connection_handed_back_after_commit_is_clean_and_reused(db_url):
    database = open_database(db_url)
    try:
        with database.begin() as conn:
            conn.execute(sa.text("CREATE TEMPORARY TABLE t (id INT PRIMARY KEY)"))
        conn = database.connect()
        conn.execute(sa.text("INSERT INTO t VALUES (1)"))
        conn.close()  # not committed: must be rolled back on its way to the pool
        with database.connect() as again:  # the same pooled session (temporary table lives)
            assert again.execute(sa.text("SELECT COUNT(*) FROM t")).scalar() == 0
    finally:
        database.dispose()
