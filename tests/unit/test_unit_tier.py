"""The unit tier's own rule (tests/unit/conftest.py): no connection of any kind."""

from __future__ import annotations

import socket

import pytest


def test_a_socket_is_refused():
    with pytest.raises(AssertionError, match="belongs in tests/integration"):
        socket.create_connection(("127.0.0.1", 3306), timeout=0.1)


def test_a_database_is_refused():
    import sqlalchemy as sa

    with pytest.raises(AssertionError, match="belongs in tests/integration"):
        sa.create_engine("sqlite://").connect()
