"""The unit tier opens no socket and no database: a test that tries fails, naming why
(pure modules only; behaviour with real backends is the integration tier's)."""

from __future__ import annotations

import socket
import sqlite3
import sqlite3.dbapi2

import pytest


def _refuse(*args: object, **kwargs: object) -> None:
    raise AssertionError("a unit test opened a connection: it belongs in tests/integration")


@pytest.fixture(autouse=True)
def _no_network_no_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", _refuse)
    monkeypatch.setattr(sqlite3, "connect", _refuse)
    monkeypatch.setattr(sqlite3.dbapi2, "connect", _refuse)  # what SQLAlchemy calls
