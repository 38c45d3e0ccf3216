"""``describe_db_error``: a driver's error as one line naming its cause and fix."""

from __future__ import annotations

import sqlite3

import pytest
import sqlalchemy as sa

from crm_cli.db.backends import describe_db_error


class ServerError(Exception):
    """What pymysql raises: the server's error code, then its text."""


@pytest.mark.parametrize(
    ("orig", "says"),
    [
        (sqlite3.OperationalError("no such table: vendas"), "the ERP's table 'vendas' is missing"),
        (
            ServerError(1146, "Table 'loja.vendas_itens' doesn't exist"),
            "the ERP's table 'vendas_itens' is missing",
        ),
        (sqlite3.OperationalError("no such table: crm_sync_queue"), "run 'crm-cli migrate'"),
        (ServerError(1146, "Table 'loja.crm_sync_log' doesn't exist"), "run 'crm-cli migrate'"),
    ],
)
def test_a_missing_table_is_named_with_whose_it_is(orig, says):
    error = describe_db_error(sa.exc.OperationalError("SELECT …", {}, orig))
    assert says in error.message
