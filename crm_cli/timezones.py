"""The ERP's time zone: the one the PHP application writes its wall-clock times in.

``database.app_time_zone`` names it (default America/Sao_Paulo). It is set once,
when the configuration loads, and read by the queue's clock
(``crm_cli.db.clock``) and by handlers that convert the ERP's local times.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crm_cli.errors import ConfigError

DEFAULT_APP_TIME_ZONE = "America/Sao_Paulo"
_zone: ZoneInfo | None = None  # built on first use: no zone data is read at import


def zone_of(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"database.app_time_zone '{name}' is not a known time zone "
            "(an IANA name such as America/Sao_Paulo; on a system without zone data, "
            "pip install tzdata)"
        ) from None


def use_app_time_zone(name: str) -> None:
    """The zone the PHP application writes its timestamps in (from the configuration)."""
    global _zone
    _zone = zone_of(name)


def app_zone() -> ZoneInfo:
    """The zone of the ERP's (and the PHP application's) wall-clock times."""
    global _zone
    if _zone is None:
        _zone = zone_of(DEFAULT_APP_TIME_ZONE)
    return _zone
