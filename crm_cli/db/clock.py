"""The two clocks of the shared tables.

The PHP application writes its timestamps (``criado_em``, ``processado_em``,
v3's ``proximo_retry``) with PHP's ``date()`` in its own time zone,
America/Sao_Paulo, whatever the MySQL session's zone is. Those columns hold
that wall-clock time, so crm-cli writes and compares them on the same clock:
the database server's UTC time shifted to ``database.app_time_zone``
(``app_now``; the zone is ``crm_cli.timezones``). crm-cli's own columns
(leases, ``started_at``, ``completed_at``, rate limits, sync state) stay on the
server's UTC clock (``DbNow``).
"""

from __future__ import annotations

import datetime as dt

from crm_cli.db.ddl import DbNowPlus
from crm_cli.timezones import app_zone


def app_offset_seconds() -> int:
    """The app zone's offset from UTC now, in seconds (-10800 for São Paulo)."""
    offset = dt.datetime.now(dt.timezone.utc).astimezone(app_zone()).utcoffset()
    return int(offset.total_seconds()) if offset else 0


def app_now(plus_seconds: int = 0) -> DbNowPlus:
    """The PHP application's wall-clock time on the database server, plus some seconds."""
    return DbNowPlus(app_offset_seconds() + plus_seconds)
