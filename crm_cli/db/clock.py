"""The two clocks of the shared tables.

The PHP application writes its timestamps (``criado_em``, ``processado_em``,
v3's ``proximo_retry``) with PHP's ``date()`` in its own time zone,
America/Sao_Paulo, whatever the MySQL session's zone is. Those columns hold
that wall-clock time, so crm-cli writes and compares them on the same clock:
the database server's UTC time shifted to ``database.app_time_zone``
(``app_now``; the zone travels with the database handle). crm-cli's own columns
(leases, ``started_at``, ``completed_at``, rate limits, sync state) stay on the
server's UTC clock (``DbNow``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from crm_cli.db.ddl import DbNowPlus
from crm_cli.timezones import DEFAULT_APP_TIME_ZONE, zone_of

# The queue's and the log's columns on the PHP application's clock (it writes or
# reads them); every other time crm-cli keeps is the server's UTC.
APP_CLOCK_COLUMNS = frozenset({"criado_em", "processado_em", "proximo_retry", "deletado_em"})

# The execution option of a database handle (``open_database(…, app_time_zone=…)``)
# naming the zone of the PHP application's timestamps: it travels with the handle,
# to every connection made from it (no process-wide setting).
APP_TIME_ZONE_OPTION = "crm_app_time_zone"


def app_zone(bind: Any) -> ZoneInfo:
    """The zone of the PHP application's wall times, for this database handle (an
    Engine or a Connection): ``database.app_time_zone``, America/Sao_Paulo unless set."""
    name = bind.get_execution_options().get(APP_TIME_ZONE_OPTION, DEFAULT_APP_TIME_ZONE)
    return zone_of(name)


def app_offset_seconds(bind: Any) -> int:
    """The app zone's offset from UTC now, in seconds (-10800 for São Paulo)."""
    offset = dt.datetime.now(dt.timezone.utc).astimezone(app_zone(bind)).utcoffset()
    return int(offset.total_seconds()) if offset else 0


def app_now(bind: Any, plus_seconds: int = 0) -> DbNowPlus:
    """The PHP application's wall-clock time on the database server, plus some seconds."""
    return DbNowPlus(app_offset_seconds(bind) + plus_seconds)


def as_datetime(value: Any) -> dt.datetime:
    """A DATETIME as a driver gives it: a datetime already, or SQLite's text."""
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))


def read_app_now(conn: Any) -> dt.datetime:
    """The PHP application's wall-clock time now, read from the database server."""
    import sqlalchemy as sa

    return as_datetime(conn.execute(sa.select(app_now(conn))).scalar_one())
