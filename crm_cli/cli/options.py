"""Options shared by several commands, and the checks of their combinations (kept here
so importing the CLI stays cheap)."""

from __future__ import annotations

import datetime as dt

from crm_cli.errors import UsageError
from crm_cli.states import Direction

DIRECTION_HELP = "ecletech_para_crm (ERP → CRM, default) or crm_para_ecletech (CRM → ERP)."

# The widest id the tables hold (INT columns): a larger one is a typo, refused
# as a usage error before any statement overflows.
MAX_ID = 2**31 - 1
MAX_DAYS = 36_500  # cleanup's --queue-days / --log-days: a century


def day_of(value: str | None, option: str = "--since") -> dt.date | None:
    """A YYYY-MM-DD option's day, or a usage error naming the option."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{option} must be a date YYYY-MM-DD (got '{value}')") from None


def moment_of(value: str | None, option: str, end_of_day: bool = False) -> dt.datetime | None:
    """``--since``/``--until``: YYYY-MM-DD or YYYY-MM-DD HH:MM[:SS], on the clock of the
    times it filters. A bare day as ``--until`` means that whole day (its end)."""
    if value is None:
        return None
    try:
        if len(value) == 10:
            day = dt.datetime.combine(dt.date.fromisoformat(value), dt.time())
            return day + dt.timedelta(days=1) - dt.timedelta(microseconds=1) if end_of_day else day
        return dt.datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(
            f"{option} must be YYYY-MM-DD or 'YYYY-MM-DD HH:MM' (got '{value}')"
        ) from None


TIME_WINDOW_HELP = "on the PHP application's clock, as criado_em shows"


def direction_of(value: str) -> Direction:
    """``--direction``'s value, or a usage error naming the two it may be."""
    try:
        return Direction(value)
    except ValueError:
        names = ", ".join(d.value for d in Direction)
        raise UsageError(f"--direction must be one of {names} (got '{value}')") from None


def check_record_flags(
    direction: Direction, record_id: int | None, external_id: str | None
) -> None:
    """``--id`` and ``--external-id`` as the direction needs them."""
    if direction == Direction.CRM_TO_ERP:
        if record_id is None and not external_id:
            raise UsageError("a crm_para_ecletech item needs --id or --external-id")
        return
    if record_id is None:
        raise UsageError("an ecletech_para_crm item needs --id (the local record's id)")
    if external_id:
        raise UsageError("--external-id goes with --direction crm_para_ecletech")
