"""Conflict strategies for CRM → ERP updates (as the original's sync service named them).

- ``crm_vence``: the CRM wins; every mapped field is overwritten.
- ``ecletech_vence``: the ERP wins; the local row keeps its values.
- ``mais_recente``: the newer side wins, by the entity's updated_at column and the
  CRM record's modification time.
- ``mesclar``: only empty local fields are filled from the CRM.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from crm_cli.settings import EntityMapping

_CRM_TIME_FIELDS = ("modificado_em", "update_time", "updated_at", "dataAlteracao")


def crm_modified_at(handler: Any, record: Mapping[str, Any]) -> dt.datetime | None:
    """When the CRM last changed the record (handler's ``updated_at`` if it has one)."""
    if hasattr(handler, "updated_at"):
        return handler.updated_at(record)
    for name in _CRM_TIME_FIELDS:
        value = record.get(name)
        if value:
            try:
                parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            except ValueError:
                continue
            return parsed.replace(tzinfo=None) if parsed.tzinfo else parsed
    return None


def resolve(
    mapping: EntityMapping,
    handler: Any,
    row: Mapping[str, Any],
    incoming: dict[str, Any],
    record: Mapping[str, Any],
) -> tuple[dict[str, Any], str]:
    """The local changes to make, and a few words saying why."""
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
        local = row.get(mapping.updated_at) if mapping.updated_at else None
        remote = crm_modified_at(handler, record)
        if isinstance(local, dt.datetime) and remote is not None and local > remote:
            return own_id, "kept (mais_recente: the ERP's copy is newer)"
        return incoming, "updated (mais_recente: the CRM's copy is newer)"
    return incoming, "updated (crm_vence)"
