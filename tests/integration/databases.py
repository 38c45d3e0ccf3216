"""Fresh databases for tests, and migrated ones copied from a template.

``crm-cli migrate`` runs eight Alembic revisions: 0.25 s per test on MariaDB.
A test that only needs a migrated database gets a copy of one migrated once
per session: SQLite's backup API copies the file; on MariaDB each table is
created from the template's own ``SHOW CREATE TABLE`` (foreign keys, indexes,
collations included) and its rows copied. ``test_migrate`` checks that a copy
and a freshly migrated database have the same schema.
"""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import sqlalchemy as sa

from tests.integration.support import MYSQL_SERVER_URL


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def new_mariadb_database() -> str:
    """Create an empty database; its URL (drop it with ``drop_mariadb_database``)."""
    name = f"crmtest_{uuid.uuid4().hex[:12]}"
    server = sa.create_engine(MYSQL_SERVER_URL)
    try:
        with server.begin() as conn:
            conn.execute(
                sa.text(f"CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
            )
    finally:
        server.dispose()
    return sa.engine.make_url(MYSQL_SERVER_URL).set(database=name).render_as_string(False)


def drop_mariadb_database(url: str) -> None:
    name = sa.engine.make_url(url).database
    server = sa.create_engine(MYSQL_SERVER_URL)
    try:
        with server.begin() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name}"))
    finally:
        server.dispose()


class Template:
    """A migrated database, copied into each test's database on demand."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._mariadb_tables: list[tuple[str, str]] | None = None  # (name, CREATE TABLE)

    def copy_into(self, url: str) -> None:
        if url.startswith("sqlite"):
            self._copy_sqlite(url)
        else:
            self._copy_mariadb(url)

    def _copy_sqlite(self, url: str) -> None:
        source = sqlite3.connect(sa.engine.make_url(self.url).database)
        target = sqlite3.connect(sa.engine.make_url(url).database)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()

    def _copy_mariadb(self, url: str) -> None:
        template = sa.engine.make_url(self.url).database
        database = sa.create_engine(url)
        try:
            with database.connect() as conn:
                if self._mariadb_tables is None:
                    self._mariadb_tables = _create_statements(conn, template)
                conn.execute(sa.text("SET FOREIGN_KEY_CHECKS = 0"))
                for name, create in self._mariadb_tables:
                    conn.exec_driver_sql(create.replace("%", "%%"))
                    conn.execute(sa.text(f"INSERT INTO `{name}` SELECT * FROM {template}.`{name}`"))
                conn.execute(sa.text("SET FOREIGN_KEY_CHECKS = 1"))
                conn.commit()
        finally:
            database.dispose()


def _create_statements(conn: sa.Connection, database: str) -> list[tuple[str, str]]:
    names = conn.execute(
        sa.text(f"SHOW FULL TABLES FROM {database} WHERE Table_type = 'BASE TABLE'")
    ).scalars()
    return [
        (name, conn.execute(sa.text(f"SHOW CREATE TABLE {database}.`{name}`")).one()[1])
        for name in sorted(names)
    ]
