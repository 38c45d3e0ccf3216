"""Reads a live database's catalog (information_schema / PRAGMA) into the
shapes of schema_spec, so tests compare the database itself with the spec."""

from __future__ import annotations

import re

import sqlalchemy as sa

from tests.integration.schema_spec import Col


def columns(database: sa.Engine, table: str) -> list[Col]:
    if database.dialect.name == "sqlite":
        return _sqlite_columns(database, table)
    with database.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA "
                "FROM information_schema.COLUMNS "
                "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = :t ORDER BY ORDINAL_POSITION"
            ),
            {"t": table},
        ).all()
    return [
        Col(
            name,
            _mysql_type(ctype),
            nullable == "YES",
            _default(default),
            "on update current_timestamp" in (extra or "").lower(),
        )
        for name, ctype, nullable, default, extra in rows
    ]


def _mysql_type(ctype: str) -> str:
    ctype = ctype.lower()
    if ctype.startswith("tinyint(1)"):
        return "tinyint(1)"
    ctype = re.sub(r"^(int|bigint|smallint)\(\d+\)", r"\1", ctype)
    return "json" if ctype == "longtext" else ctype  # MariaDB stores JSON as LONGTEXT


def _default(value: str | None) -> str | None:
    if value is None or value.upper() == "NULL":
        return None
    value = value.strip("()").lower() if "current_timestamp" in value.lower() else value
    value = value.replace("current_timestamp()", "current_timestamp")
    return value.strip("'")


def _sqlite_columns(database: sa.Engine, table: str) -> list[Col]:
    with database.connect() as conn:
        rows = conn.exec_driver_sql(f"PRAGMA table_info({table})").all()
    return [
        Col(name, ctype.upper(), not notnull and not pk, _default(default))
        for _cid, name, ctype, notnull, default, pk in rows
    ]


def sqlite_type(mysql_type: str) -> str:
    """How crm-cli's migrations declare a MySQL column type on SQLite."""
    if mysql_type.startswith("enum("):
        values = re.findall(r"'([^']*)'", mysql_type)
        return f"VARCHAR({max(map(len, values))})"
    return {
        "int": "INTEGER",
        "int unsigned": "INTEGER",
        "tinyint(1)": "SMALLINT",
    }.get(mysql_type, mysql_type.upper())


def indexes(database: sa.Engine, table: str) -> dict[str, tuple[bool, list[tuple[str, bool]]]]:
    """Secondary indexes and unique keys: name -> (unique, [(column, descending)])."""
    if database.dialect.name == "sqlite":
        return _sqlite_indexes(database, table)
    with database.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT INDEX_NAME, NON_UNIQUE, COLUMN_NAME, COLLATION "
                "FROM information_schema.STATISTICS "
                "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = :t AND INDEX_NAME <> 'PRIMARY' "
                "ORDER BY INDEX_NAME, SEQ_IN_INDEX"
            ),
            {"t": table},
        ).all()
    found: dict[str, tuple[bool, list[tuple[str, bool]]]] = {}
    for name, non_unique, column, collation in rows:
        found.setdefault(name, (not non_unique, []))[1].append((column, collation == "D"))
    return found


def _sqlite_indexes(database: sa.Engine, table: str) -> dict:
    found = {}
    with database.connect() as conn:
        for _seq, name, unique, origin, _partial in conn.exec_driver_sql(
            f"PRAGMA index_list({table})"
        ).all():
            if origin == "pk":
                continue
            cols = [
                (col, bool(desc))
                for _s, _cid, col, desc, _coll, key in conn.exec_driver_sql(
                    f"PRAGMA index_xinfo({name})"
                ).all()
                if key
            ]
            if origin == "u":  # a named UNIQUE constraint: its name is in the table's SQL
                sql = conn.exec_driver_sql(
                    "SELECT sql FROM sqlite_master WHERE name = ?", (table,)
                ).scalar()
                match = re.search(r"CONSTRAINT (\w+) UNIQUE \(" + cols[0][0], sql)
                name = match.group(1) if match else name
            found[name] = (bool(unique), cols)
    return found


def table_options(database: sa.Engine, table: str) -> tuple[str, str]:
    with database.connect() as conn:
        return tuple(
            conn.execute(
                sa.text(
                    "SELECT ENGINE, TABLE_COLLATION FROM information_schema.TABLES "
                    "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = :t"
                ),
                {"t": table},
            ).one()
        )


def table_names(database: sa.Engine) -> set[str]:
    return set(sa.inspect(database).get_table_names())
