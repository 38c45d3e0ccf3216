"""MySQL's named locks: enqueue dedupe, claims on servers without SKIP LOCKED, and
the per-record locks a run holds while it works on its items."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

if TYPE_CHECKING:
    from crm_cli.engine.queue.items import QueueItem

LOCK_TIMEOUT = 10  # seconds to wait for a named lock (enqueue dedupe, old-server claims)


def is_mysql(conn: Connection | Engine) -> bool:
    return conn.dialect.name in ("mysql", "mariadb")


def supports_skip_locked(conn: Connection) -> bool:
    """SKIP LOCKED exists from MySQL 8.0.1 and MariaDB 10.6."""
    if not is_mysql(conn):
        return False
    version = conn.dialect.server_version_info or (0,)
    return version >= ((10, 6) if getattr(conn.dialect, "is_mariadb", False) else (8, 0, 1))


def lock_name(target: Connection | Engine, name: str) -> str:
    """A named lock of this database: GET_LOCK names are server-wide, and two shops (or
    staging beside production) on one server must not block each other."""
    database = target.engine.url.database or ""
    return "crm_cli:" + hashlib.sha1(f"{database}\x00{name}".encode()).hexdigest()


@contextmanager
def named_lock(conn: Connection, name: str, timeout: int = LOCK_TIMEOUT) -> Iterator[bool]:
    """MySQL's GET_LOCK for the block (True when held); a no-op elsewhere."""
    if not is_mysql(conn):
        yield True
        return
    lock = lock_name(conn, name)
    got = conn.execute(sa.text("SELECT GET_LOCK(:n, :t)"), {"n": lock, "t": timeout}).scalar()
    conn.commit()  # the lock belongs to the session, not to this (auto-begun) transaction
    try:
        yield got == 1
    finally:
        if got == 1:
            conn.execute(sa.text("SELECT RELEASE_LOCK(:n)"), {"n": lock})
            conn.commit()


class RecordLocks:
    """The locks on the records of a run's claimed items (MySQL; SQLite claims skip
    records another run is processing instead).

    Two items for the same record (a change queued while an earlier one is in
    flight) must never be processed at once, or both could create it in the
    CRM. Right after its claim a run locks every claimed record in one
    statement and holds the locks until it exits: an item whose record another
    run holds goes back to the queue. The locks live on a session of their own
    in autocommit mode (a named lock belongs to the session, not to a
    transaction).
    """

    def __init__(self, database: Engine) -> None:
        self._database = database
        self._conn: Connection | None = None
        self._held: list[str] = []

    def take(self, items: list[QueueItem]) -> list[QueueItem]:
        """Lock the items' records; the items whose record another run holds."""
        if not items or not is_mysql(self._database):
            return []
        if self._conn is None:
            self._conn = self._database.connect().execution_options(isolation_level="AUTOCOMMIT")
        names = [lock_name(self._database, f"record:{item.key}") for item in items]
        got = self._conn.execute(*_each_lock("GET_LOCK(:{}, 0)", names)).one()
        self._held += [name for name, ok in zip(names, got, strict=True) if ok == 1]
        return [item for item, ok in zip(items, got, strict=True) if ok != 1]

    def close(self) -> None:
        if self._conn is None:
            return
        try:
            if self._held:
                self._conn.execute(*_each_lock("RELEASE_LOCK(:{})", self._held))
        finally:
            self._held = []
            self._conn.close()
            self._conn = None


def _each_lock(call: str, names: list[str]) -> tuple[sa.TextClause, dict[str, str]]:
    """One SELECT applying ``call`` (with ``{}`` for the parameter) to every lock name."""
    params = {f"n{i}": name for i, name in enumerate(names)}
    return sa.text("SELECT " + ", ".join(call.format(key) for key in params)), params
