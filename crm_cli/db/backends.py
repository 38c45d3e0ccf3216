"""The two backends (SQLite, MySQL/MariaDB): opening a database, and the one translation
of driver errors into words."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url

from crm_cli.db.clock import APP_TIME_ZONE_OPTION
from crm_cli.errors import ConfigError, DatabaseError
from crm_cli.timezones import DEFAULT_APP_TIME_ZONE, zone_of

SERVER_STATUS_IN_TRANS = 1  # MySQL protocol: the status flag "a transaction is open"


def parse_url(url: str) -> URL:
    try:
        return make_url(url)
    except sa.exc.ArgumentError:
        raise ConfigError(
            "database.url is not a valid SQLAlchemy URL "
            "(expected e.g. mysql+pymysql://user:password@host:3306/dbname or sqlite:///path)"
        ) from None


def display_url(url: str) -> str:
    """The URL with its password masked, for messages and logs."""
    return parse_url(url).render_as_string(hide_password=True)


def open_database(url: str, app_time_zone: str = DEFAULT_APP_TIME_ZONE) -> Engine:
    """The database at ``url`` (a SQLAlchemy Engine), configured for cron work on SQLite
    or MySQL/MariaDB; ``app_time_zone``: the zone of the PHP application's wall times,
    which the handle carries to every connection (``crm_cli.db.clock``)."""
    parsed = parse_url(url)
    backend = parsed.get_backend_name()
    zone_of(app_time_zone)  # a bad name is the configuration's error, said now
    options = {APP_TIME_ZONE_OPTION: app_time_zone}
    if backend == "sqlite":
        return _sqlite_engine(parsed, options)
    if backend in ("mysql", "mariadb"):
        if parsed.get_driver_name() != "pymysql":
            raise ConfigError(
                f"database.url {display_url(url)} uses the driver "
                f"'{parsed.get_driver_name()}', which crm-cli does not install: write "
                f"{backend}+pymysql://… (e.g. mysql+pymysql://user:password@host:3306/dbname)"
            )
        database = sa.create_engine(
            parsed,
            pool_recycle=3600,
            pool_reset_on_return=None,  # _rollback_if_open does it, only when needed
            json_serializer=json_text,
            # READ COMMITTED: claims with SKIP LOCKED see rows committed by
            # other runs at once, and no gap locks block the PHP app's INSERTs.
            isolation_level="READ COMMITTED",
            connect_args=_mysql_connect_args(parsed),
            execution_options=options,
        )
        _ping_when_idle(database)
        sa.event.listen(database.pool, "reset", _rollback_if_open)
        return database
    raise ConfigError(
        f"database backend '{backend}' is not supported (use mysql+pymysql:// or sqlite:///)"
    )


LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}


def _mysql_connect_args(url: URL) -> dict[str, Any]:
    args: dict[str, Any] = {
        "connect_timeout": 10,
        "charset": "utf8mb4",
        # One clock for every host: timestamps we compare are UTC.
        "init_command": "SET time_zone = '+00:00'",
    }
    on_this_machine = (url.host or "localhost") in LOOPBACK_HOSTS or "unix_socket" in url.query
    if on_this_machine and not any(key.startswith("ssl") for key in url.query):
        # TLS to a server on this machine protects nothing, and pymysql's default
        # ("preferred") loads the system CA store for every new connection: 20 ms,
        # more than a whole sync item. Any ssl_* option in the URL is obeyed.
        args["ssl_disabled"] = True
    return args


def json_text(value: Any) -> str:
    """How JSON columns are written: what JSON has no type for (Decimal, dates) as text."""
    return json.dumps(value, default=str)


IDLE_BEFORE_PING = 5.0  # seconds a pooled connection may rest before it is checked


def _ping_when_idle(database: Engine) -> None:
    """Check a pooled connection on checkout only if it has rested a while.

    pool_pre_ping would ping on every checkout: a round trip per transaction,
    a fifth of a sync item's database time. A connection returned moments ago
    is alive; one that rested (a long wait for a rate-limit slot, a server
    restart meanwhile) is pinged, and a dead one is replaced by the pool.
    """

    @sa.event.listens_for(database.pool, "connect")
    @sa.event.listens_for(database.pool, "checkin")
    def _rested_since(_dbapi_conn, record):  # type: ignore[no-untyped-def]
        if record is not None:
            record.info["checked_in"] = time.monotonic()

    @sa.event.listens_for(database.pool, "checkout")
    def _ping(dbapi_conn, record, _proxy):  # type: ignore[no-untyped-def]
        rested = time.monotonic() - record.info.get("checked_in", 0.0)
        if rested < IDLE_BEFORE_PING:
            return
        try:
            dbapi_conn.ping(reconnect=False)
        except Exception as exc:  # the driver's own error: the pool retries afresh
            raise sa.exc.DisconnectionError(str(exc)) from exc


def _rollback_if_open(dbapi_conn, _record, reset_state) -> None:  # type: ignore[no-untyped-def]
    """Roll back a connection handed back to the pool only if a transaction is open.

    The pool's default ROLLBACK on return costs a round trip after every
    ``engine.begin()`` block, although its COMMIT already ended the
    transaction. The server's last OK packet tells whether one is open; a
    transaction SQLAlchemy itself began is rolled back by the Connection before
    it gets here (transaction_was_reset), so the flag only has to cover what
    follows a COMMIT. (A result set does not refresh the flag: a transaction
    begun on the raw driver connection, behind SQLAlchemy, would be missed;
    the code never does that.)
    """
    if reset_state.transaction_was_reset:
        return
    status = getattr(dbapi_conn, "server_status", None)
    if status is None or status & SERVER_STATUS_IN_TRANS:
        dbapi_conn.rollback()


def _sqlite_engine(url: URL, options: dict[str, Any]) -> Engine:
    if url.database and url.database != ":memory:":
        folder = Path(url.database).expanduser().parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(
                f"cannot create the folder {folder} of the SQLite database ({exc.strerror}); "
                "choose another path in database.url or $CRM_DATABASE_URL"
            ) from None
    database = sa.create_engine(
        url, connect_args={"timeout": 30}, json_serializer=json_text, execution_options=options
    )

    @sa.event.listens_for(database, "connect")
    def _pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        # We issue BEGIN ourselves (below): pysqlite's own transaction handling
        # breaks SAVEPOINTs and begins too late.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        # WAL lets readers run beside a writer; the busy timeout makes
        # overlapping cron runs wait for each other, not fail.
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=30000")
        # In WAL mode NORMAL never corrupts the database; a power cut may lose
        # the last commits, which the sync engine tolerates (it looks records
        # up by natural key before creating them again).
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @sa.event.listens_for(database, "begin")
    def _begin(conn):  # type: ignore[no-untyped-def]
        # IMMEDIATE takes the write lock up front: a transaction that reads
        # and then writes can otherwise fail at once with "database is locked"
        # when another process wrote in between (the busy timeout does not
        # cover that case).
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return database


_MYSQL_CAUSES = {
    1044: "access denied to the database (grant the user privileges on it)",
    1045: "access denied (check the user and password in database.url)",
    1049: "unknown database (create it first, or fix the name in database.url)",
    1698: "access denied (check the user and password in database.url)",
    1142: "the database user lacks a privilege this command needs",
    2003: "cannot connect to the MySQL server (is it running, and is host:port right?)",
    2005: "unknown MySQL server host (check the host in database.url)",
    2006: "the MySQL server went away",
    2013: "lost connection to the MySQL server",
    2026: "TLS to the MySQL server failed (check the ssl_* options in database.url)",
}


def _missing_table(detail: str) -> str:
    """Which table is missing, and the fix: crm-cli's own (migrate), or the ERP's."""
    found = re.search(r"no such table: ([\w.]+)|Table '([^']+)' doesn't exist", detail)
    name = next((g for g in found.groups() if g), "") if found else ""
    table = name.rsplit(".", 1)[-1]
    if not table or table.startswith("crm_"):
        return "a CRM table is missing (run 'crm-cli migrate' first)"
    return (
        f"the ERP's table '{table}' is missing (was it dropped or renamed? check the ERP's "
        "database, or entities.<name>.table in the config)"
    )


def describe_db_error(exc: BaseException, url: str | None = None) -> DatabaseError:
    """Turn a driver exception into a one-line DatabaseError naming cause and fix."""
    orig = getattr(exc, "orig", None) or exc
    args = getattr(orig, "args", ())
    code = args[0] if args and isinstance(args[0], int) else None
    detail = str(args[1]) if len(args) > 1 else str(orig)
    detail = detail.splitlines()[0] if detail else type(orig).__name__
    where = f" [{display_url(url)}]" if url else ""
    cause = _MYSQL_CAUSES.get(code) if code else None
    if code == 1146 or "no such table" in detail:
        cause = _missing_table(detail)
    if cause:
        return DatabaseError(f"database error{where}: {cause} — {detail}")
    return DatabaseError(f"database error{where}: {detail}")
