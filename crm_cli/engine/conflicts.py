"""Conflict strategies for CRM → ERP updates (as the original's sync service named them).

- ``crm_vence``: the CRM wins; every mapped field is overwritten.
- ``ecletech_vence``: the ERP wins; the local row keeps its values.
- ``mais_recente``: the newer side wins, by the entity's updated_at column and the
  CRM record's modification time.
- ``mesclar``: only empty local fields are filled from the CRM.

Times are compared as instants, never as wall times of two clocks: the ERP's
column is read in its zone (``database.app_time_zone``: the PHP application
writes São Paulo time), a CRM's time in the zone its API documents (an offset
it carries, else the provider's or the account's zone: ``Clocks``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from crm_cli.settings import EntityMapping

_CRM_TIME_FIELDS = ("modificado_em", "update_time", "updated_at", "dataAlteracao")


@dataclass(frozen=True)
class Clocks:
    """The zones of the two sides' wall times."""

    erp: ZoneInfo  # the ERP's (and the PHP application's) timestamps
    crm: ZoneInfo  # a CRM record's timestamps that carry no offset


def instant(value: Any, zone: ZoneInfo) -> dt.datetime | None:
    """``value`` (a datetime or ISO text) as an aware instant; naive ones are in ``zone``."""
    if isinstance(value, dt.datetime):
        when = value
    elif value:
        try:
            when = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=zone)


def crm_modified_at(handler: Any, record: Mapping[str, Any], zone: ZoneInfo) -> dt.datetime | None:
    """When the CRM last changed the record, as an instant (the handler's ``updated_at``
    if it has one; naive times are in ``zone``, the CRM's)."""
    if hasattr(handler, "updated_at"):
        return instant(handler.updated_at(record), zone)
    for name in _CRM_TIME_FIELDS:
        when = instant(record.get(name), zone)
        if when is not None:
            return when
    return None


def same_amount(local: Any, incoming: Any) -> bool:
    """Whether a CRM's amount is the one the ERP holds: equal numbers (60 and 60.00),
    or a zero where the ERP left the column empty (a CRM that reports a sale's
    discount as 0.00 when the ERP's was NULL has not changed its money)."""
    if not isinstance(incoming, Decimal):
        return False
    if local in (None, ""):
        return incoming == 0
    try:
        return Decimal(str(local)) == incoming
    except ArithmeticError:
        return False


def same_value(local: Any, incoming: Any) -> bool:
    """Whether writing ``incoming`` over the ERP's ``local`` would change nothing: equal,
    the same amount, the same text (a date and its ISO text, 1 and "1"), or empty on
    both sides. A record read back unchanged then costs no write."""
    if isinstance(incoming, Decimal):
        return same_amount(local, incoming)
    if local == incoming or (local in (None, "") and incoming in (None, "")):
        return True
    if local is None or incoming is None:
        return False
    if isinstance(local, (Decimal, int, float)) and not isinstance(local, bool):
        try:
            return Decimal(str(local)) == Decimal(str(incoming))
        except ArithmeticError:
            return False
    return str(local) == str(incoming)


def resolve(
    mapping: EntityMapping,
    handler: Any,
    row: Mapping[str, Any],
    incoming: dict[str, Any],
    record: Mapping[str, Any],
    clocks: Clocks,
) -> tuple[dict[str, Any], str]:
    """The local changes to make, and a few words saying why."""
    incoming = {k: v for k, v in incoming.items() if not same_value(row.get(k), v)}
    strategy = mapping.conflict
    # the link goes in whatever the strategy keeps (when this store owns the column)
    own_id = {k: incoming[k] for k in (mapping.external_id,) if k in incoming}
    if strategy == "ecletech_vence":
        return own_id, "kept (ecletech_vence: the ERP wins)"
    if strategy == "mesclar":
        filled = {
            k: v for k, v in incoming.items() if row.get(k) in (None, "") and v not in (None, "")
        }
        return {**filled, **own_id}, f"merged ({len(filled)} empty field(s) filled)"
    if strategy == "mais_recente":
        local = instant(row.get(mapping.updated_at), clocks.erp) if mapping.updated_at else None
        remote = crm_modified_at(handler, record, clocks.crm)
        if local is not None and remote is not None and local > remote:
            return own_id, "kept (mais_recente: the ERP's copy is newer)"
        return incoming, "updated (mais_recente: the CRM's copy is newer)"
    return incoming, "updated (crm_vence)"
