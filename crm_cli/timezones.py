"""Time zones named in the configuration: the ERP's (``database.app_time_zone``, the one
the PHP application writes its wall-clock times in) and the CRM accounts'.

A zone is never a process-wide setting: the ERP's travels with the database
handle (``crm_cli.db.clock``) and with what handlers and clients are given.
"""

from __future__ import annotations

import functools
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crm_cli.errors import ConfigError

DEFAULT_APP_TIME_ZONE = "America/Sao_Paulo"


@functools.cache
def zone_of(name: str) -> ZoneInfo:
    """The zone named ``name``; ConfigError naming the setting when there is none."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"database.app_time_zone '{name}' is not a known time zone "
            "(an IANA name such as America/Sao_Paulo; on a system without zone data, "
            "pip install tzdata)"
        ) from None
