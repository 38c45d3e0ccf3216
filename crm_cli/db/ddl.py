"""Column types and DDL pieces shared by the migrations and the table model.

The original tables were written for MySQL (InnoDB, utf8mb4, ENUMs, TINYINT(1),
ON UPDATE CURRENT_TIMESTAMP); these helpers render that on MySQL/MariaDB and a
plain equivalent on SQLite, so one definition serves every backend.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement

from crm_cli.states import Direction, LogStatus, QueueStatus

VERSION_TABLE = "crm_cli_alembic_version"  # not "alembic_version": the PHP app's DB is shared

MYSQL_TABLE_OPTIONS = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_unicode_ci",
}

_MYSQL = ("mysql", "mariadb")

TINYINT1 = sa.SmallInteger().with_variant(mysql.TINYINT(1), *_MYSQL)
INT_UNSIGNED = sa.Integer().with_variant(mysql.INTEGER(unsigned=True), *_MYSQL)
# The values of the shared tables' ENUM columns, in the original's order.
DIRECTIONS = tuple(d.value for d in Direction)
LOG_STATUSES = tuple(s.value for s in LogStatus)
QUEUE_STATUSES = tuple(s.value for s in QueueStatus)


def enum(*values: str, name: str) -> sa.Enum:
    """A MySQL ENUM; on SQLite a VARCHAR holding the same values."""
    return sa.Enum(*values, name=name, native_enum=True, create_constraint=False)


class CurrentTimestampOnUpdate(ColumnElement):
    """Server default of the original's ``atualizado_em`` columns."""

    inherit_cache = True


@compiles(CurrentTimestampOnUpdate)
def _on_update_default(element: CurrentTimestampOnUpdate, compiler: object, **kw: object) -> str:
    # SQLite has no ON UPDATE clause; our code sets atualizado_em itself.
    return "CURRENT_TIMESTAMP"


@compiles(CurrentTimestampOnUpdate, "mysql")
@compiles(CurrentTimestampOnUpdate, "mariadb")
def _on_update_mysql(element: CurrentTimestampOnUpdate, compiler: object, **kw: object) -> str:
    return "CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP"


def created_at(name: str = "criado_em") -> sa.Column:
    return sa.Column(
        name, sa.TIMESTAMP(), nullable=True, server_default=sa.func.current_timestamp()
    )


def updated_at(name: str = "atualizado_em") -> sa.Column:
    return sa.Column(name, sa.TIMESTAMP(), nullable=True, server_default=CurrentTimestampOnUpdate())


def index_name(table: str, name: str, dialect: str) -> str:
    """The original's index name; on SQLite prefixed by the table.

    MySQL scopes index names to a table, so the original reuses ``idx_loja``
    on two tables; SQLite scopes them to the database and would refuse that.
    """
    return f"{table}_{name}" if dialect == "sqlite" else name


# Runtime SQL constructs. They are GenericFunctions so that statements using them
# keep SQLAlchemy's compiled-statement cache (a bare ColumnElement subclass would
# be compiled again on every execution).


class DbNowMs(sa.sql.functions.GenericFunction):
    """The database server's clock in Unix milliseconds: one clock for every host."""

    inherit_cache = True
    name = "crm_db_now_ms"
    type = sa.BigInteger()


@compiles(DbNowMs)
def _now_ms_sqlite(element: DbNowMs, compiler: object, **kw: object) -> str:
    return "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)"


@compiles(DbNowMs, "mysql")
@compiles(DbNowMs, "mariadb")
def _now_ms_mysql(element: DbNowMs, compiler: object, **kw: object) -> str:
    return "CAST(UNIX_TIMESTAMP(NOW(3)) * 1000 AS SIGNED)"


class Greatest(sa.sql.functions.GenericFunction):
    """GREATEST(a, b, …) on MySQL; the scalar MAX(a, b, …) on SQLite."""

    inherit_cache = True
    name = "greatest"
    type = sa.BigInteger()


@compiles(Greatest, "sqlite")
def _greatest_sqlite(element: Greatest, compiler: sa.sql.compiler.SQLCompiler, **kw: object) -> str:
    return f"MAX({compiler.process(element.clauses, **kw)})"


class DbDayNumber(sa.sql.functions.GenericFunction):
    """Days since the Unix epoch on the database server's clock (UTC)."""

    inherit_cache = True
    name = "crm_db_day_number"
    type = sa.BigInteger()


@compiles(DbDayNumber)
def _day_sqlite(element: DbDayNumber, compiler: object, **kw: object) -> str:
    return "CAST(julianday('now') - 2440587.5 AS INTEGER)"


@compiles(DbDayNumber, "mysql")
@compiles(DbDayNumber, "mariadb")
def _day_mysql(element: DbDayNumber, compiler: object, **kw: object) -> str:
    return "(UNIX_TIMESTAMP(NOW(3)) DIV 86400)"


class DbNow(sa.sql.functions.GenericFunction):
    """The database server's current UTC time, as a DATETIME (one clock for every host)."""

    inherit_cache = True
    name = "crm_db_now"
    type = sa.DateTime()


@compiles(DbNow)
def _now_sqlite(element: DbNow, compiler: object, **kw: object) -> str:
    return "datetime('now')"


@compiles(DbNow, "mysql")
@compiles(DbNow, "mariadb")
def _now_mysql(element: DbNow, compiler: object, **kw: object) -> str:
    return "UTC_TIMESTAMP()"


class DbNowPlus(sa.sql.functions.GenericFunction):
    """The database server's UTC time plus a number of seconds (a bound parameter)."""

    inherit_cache = True
    name = "crm_db_now_plus"
    type = sa.DateTime()

    def __init__(self, seconds: int, **kw: object) -> None:
        super().__init__(sa.literal(int(seconds), sa.Integer), **kw)


def _seconds(element: DbNowPlus, compiler: sa.sql.compiler.SQLCompiler, **kw: object) -> str:
    return compiler.process(element.clauses.clauses[0], **kw)


@compiles(DbNowPlus)
def _now_plus_sqlite(
    element: DbNowPlus, compiler: sa.sql.compiler.SQLCompiler, **kw: object
) -> str:
    # "N seconds", N signed: a "+" before a negative N would make the modifier invalid
    return f"datetime('now', {_seconds(element, compiler, **kw)} || ' seconds')"


@compiles(DbNowPlus, "mysql")
@compiles(DbNowPlus, "mariadb")
def _now_plus_mysql(element: DbNowPlus, compiler: sa.sql.compiler.SQLCompiler, **kw: object) -> str:
    return f"DATE_ADD(UTC_TIMESTAMP(), INTERVAL {_seconds(element, compiler, **kw)} SECOND)"
