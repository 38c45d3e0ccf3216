"""``crm_sync_state``: per record, the last payload the CRM accepted and the create marker.

Its statements run once or twice for every item a sync processes, so they are
built once, with bound parameters: building a statement costs several times
more CPU than executing a prebuilt one.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from crm_cli.db.ddl import DbNow
from crm_cli.db.schema import crm_sync_state as S

if TYPE_CHECKING:
    from crm_cli.entities import EntityTable

_KEY = sa.and_(
    S.c.id_loja == sa.bindparam("k_loja"),
    S.c.entidade == sa.bindparam("k_entidade"),
    S.c.id_registro == sa.bindparam("k_registro"),
)
_CLEAR_CREATE = sa.update(S).where(_KEY).values(create_started_at=None)

# What each kind of upsert sets, on insert and on update alike.
_CREATE_STARTED = {"create_started_at": DbNow()}
_SUCCESS = {
    "external_id": sa.bindparam("v_external_id"),
    "payload_hash": sa.bindparam("v_payload_hash"),
    "synced_at": DbNow(),
    "create_started_at": None,
}


def payload_hash(payload: Any, external_id: str | None) -> str:
    text = json.dumps([payload, external_id], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _key(id_loja: int, entidade: str, id_registro: int) -> dict[str, Any]:
    return {"k_loja": id_loja, "k_entidade": entidade, "k_registro": id_registro}


@dataclass(frozen=True)
class SyncState:
    payload_hash: str | None
    create_started_at: datetime | None


def load_with_record(
    conn: Connection, table: EntityTable, id_loja: int, entidade: str, id_registro: int
) -> tuple[dict[str, Any] | None, SyncState | None]:
    """The ERP record and its sync state in one query: a sync reads both for every item."""
    row = conn.execute(_with_record(table), _key(id_loja, entidade, id_registro)).first()
    if row is None:
        return None, None
    width = len(table.table.c)
    record = dict(zip(table.table.c.keys(), row[:width], strict=True))
    found, digest, create_started_at = row[width:]
    return record, (SyncState(digest, create_started_at) if found is not None else None)


@functools.cache
def _with_record(table: EntityTable) -> sa.Select:
    on = sa.and_(
        S.c.id_loja == sa.bindparam("k_loja"),
        S.c.entidade == sa.bindparam("k_entidade"),
        S.c.id_registro == table.pk,
    )
    return (
        sa.select(
            table.table,
            S.c.id_loja.label("sync_state_found"),  # labelled: the ERP table may have id_loja
            S.c.payload_hash.label("sync_state_payload_hash"),
            S.c.create_started_at.label("sync_state_create_started_at"),
        )
        .select_from(table.table.outerjoin(S, on))
        .where(table.pk == sa.bindparam("k_registro"))
    )


@functools.cache
def _upsert(dialect: str, kind: str) -> sa.Executable:
    """One statement: INSERT … ON DUPLICATE KEY UPDATE (MySQL) / ON CONFLICT (SQLite)."""
    values = _CREATE_STARTED if kind == "create_started" else _SUCCESS
    row = {
        "id_loja": sa.bindparam("k_loja"),
        "entidade": sa.bindparam("k_entidade"),
        "id_registro": sa.bindparam("k_registro"),
        **values,
    }
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert

        return (
            insert(S)
            .values(**row)
            .on_conflict_do_update(
                index_elements=[S.c.id_loja, S.c.entidade, S.c.id_registro], set_=values
            )
        )
    from sqlalchemy.dialects.mysql import insert

    return insert(S).values(**row).on_duplicate_key_update(**values)


def mark_create_started(conn: Connection, id_loja: int, entidade: str, id_registro: int) -> None:
    """Committed before a create is sent: if the run dies, the next one knows to look first."""
    conn.execute(_upsert(conn.dialect.name, "create_started"), _key(id_loja, entidade, id_registro))


def clear_create(conn: Connection, id_loja: int, entidade: str, id_registro: int) -> None:
    conn.execute(_CLEAR_CREATE, _key(id_loja, entidade, id_registro))


def record_success(
    conn: Connection,
    id_loja: int,
    entidade: str,
    id_registro: int,
    external_id: str,
    payload_hash_: str | None,
) -> None:
    conn.execute(
        _upsert(conn.dialect.name, "success"),
        {
            **_key(id_loja, entidade, id_registro),
            "v_external_id": external_id,
            "v_payload_hash": payload_hash_,
        },
    )
