"""``crm_sync_state``: per record, the last payload the CRM accepted and the create marker.

A sync reads the states of several items at once, with their records, and
writes one state per item it sends: those statements are built once, with
bound parameters (building a statement costs several times more CPU than
executing a prebuilt one).
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
from crm_cli.db.schema import crm_sync_state

if TYPE_CHECKING:
    from crm_cli.engine.entities import EntityTable

_KEY = sa.and_(
    crm_sync_state.c.id_loja == sa.bindparam("k_loja"),
    crm_sync_state.c.entidade == sa.bindparam("k_entidade"),
    crm_sync_state.c.id_registro == sa.bindparam("k_registro"),
)
_CLEAR_CREATE = sa.update(crm_sync_state).where(_KEY).values(create_started_at=None)

# What each kind of upsert sets, on insert and on update alike.
_SUCCESS = {
    "external_id": sa.bindparam("v_external_id"),
    "payload_hash": sa.bindparam("v_payload_hash"),
    "synced_at": DbNow(),
    "create_started_at": None,
    # the row's own updated_at as it was sent: full-sync's "changed since?"
    "source_updated_at": sa.bindparam("v_source_updated_at"),
}


# What an exchange from the CRM sets: the record as read, written into the ERP row,
# and what that row would now send (crm_cli.engine.to_crm.ToCrm.settle).
_EXCHANGED = {
    **_SUCCESS,
    "received_hash": sa.bindparam("v_received_hash"),
}


# What a link from the CRM sets (a record received, not sent).
_LINKED = {
    "external_id": sa.bindparam("v_external_id"),
    "payload_hash": None,  # what the CRM holds now came from it: the next send compares afresh
    "synced_at": DbNow(),
    "create_started_at": None,
}


def record_hash(record: Any) -> str:
    """The hash of a CRM record as read: the same record read again is the same hash."""
    return payload_hash(record, None)


def payload_hash(payload: Any, external_id: str | None) -> str:
    text = json.dumps([payload, external_id], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _key(id_loja: int, entidade: str, id_registro: int) -> dict[str, Any]:
    return {"k_loja": id_loja, "k_entidade": entidade, "k_registro": id_registro}


RecordKey = tuple[int, str, int]  # (id_loja, entidade, id_registro)


@dataclass(frozen=True)
class SyncState:
    """A store's state of one record: its link, the last payload the CRM accepted,
    and the create marker."""

    external_id: str | None
    payload_hash: str | None
    create_started_at: datetime | None
    source_updated_at: datetime | None = None  # the row's updated_at when last exchanged
    received_hash: str | None = None  # the CRM's record as last read (record_hash)

    def crm_changed(self, received: str) -> bool:
        """Whether the CRM's record (its hash ``received``) is not the one last read."""
        return self.received_hash != received


def load_with_records(
    conn: Connection, table: EntityTable, id_loja: int, entidade: str, ids: list[int]
) -> dict[int, tuple[dict[str, Any], SyncState | None]]:
    """ERP records and their sync state, by record id, in one query (missing ids are absent)."""
    params = {"k_loja": id_loja, "k_entidade": entidade, "k_registros": ids}
    width, names = len(table.table.c), table.table.c.keys()
    found: dict[int, tuple[dict[str, Any], SyncState | None]] = {}
    for row in conn.execute(_with_records(table), params):
        record = dict(zip(names, row[:width], strict=True))
        present, external_id, digest, create_started_at, source_updated_at = row[width:]
        state = (
            SyncState(external_id, digest, create_started_at, source_updated_at)
            if present is not None
            else None
        )
        found[record[table.mapping.primary_key]] = (record, state)
    return found


@functools.cache
def _with_records(table: EntityTable) -> sa.Select:
    on = sa.and_(
        crm_sync_state.c.id_loja == sa.bindparam("k_loja"),
        crm_sync_state.c.entidade == sa.bindparam("k_entidade"),
        crm_sync_state.c.id_registro == table.pk,
    )
    return (
        sa.select(
            table.table,
            crm_sync_state.c.id_loja.label(
                "sync_state_found"
            ),  # labelled: the ERP table may have id_loja
            crm_sync_state.c.external_id.label("sync_state_external_id"),
            crm_sync_state.c.payload_hash.label("sync_state_payload_hash"),
            crm_sync_state.c.create_started_at.label("sync_state_create_started_at"),
            crm_sync_state.c.source_updated_at.label("sync_state_source_updated_at"),
        )
        .select_from(table.table.outerjoin(crm_sync_state, on))
        .where(table.pk.in_(sa.bindparam("k_registros", expanding=True)))
    )


def _upsert(dialect: str, rows: dict | list[dict], values: dict) -> sa.Executable:
    """One statement: INSERT … ON DUPLICATE KEY UPDATE (MySQL) / ON CONFLICT (SQLite)."""
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert

        return (
            insert(crm_sync_state)
            .values(rows)
            .on_conflict_do_update(
                index_elements=[
                    crm_sync_state.c.id_loja,
                    crm_sync_state.c.entidade,
                    crm_sync_state.c.id_registro,
                ],
                set_=values,
            )
        )
    from sqlalchemy.dialects.mysql import insert

    return insert(crm_sync_state).values(rows).on_duplicate_key_update(**values)


@functools.cache
def _upsert_one(dialect: str, kind: str) -> sa.Executable:
    """One record's state written as ``kind`` says (_SUCCESS or _LINKED), built once."""
    values = {"success": _SUCCESS, "link": _LINKED, "exchange": _EXCHANGED}[kind]
    key = {
        "id_loja": sa.bindparam("k_loja"),
        "entidade": sa.bindparam("k_entidade"),
        "id_registro": sa.bindparam("k_registro"),
    }
    return _upsert(dialect, {**key, **values}, values)


def mark_creates_started(conn: Connection, keys: list[RecordKey]) -> None:
    """Committed before the creates are sent: if the run dies, the next one looks first."""
    if not keys:
        return
    started = {"create_started_at": DbNow()}
    rows = [  # in key order: runs marking at once then lock their rows in one order
        {"id_loja": loja, "entidade": entidade, "id_registro": registro, **started}
        for loja, entidade, registro in sorted(keys)
    ]
    conn.execute(_upsert(conn.dialect.name, rows, started))


def clear_creates(conn: Connection, keys: list[RecordKey]) -> None:
    """Creates known not to have happened (refused, or never sent): nothing to look up."""
    if keys:
        conn.execute(_CLEAR_CREATE, [_key(*key) for key in keys])


def record_link(
    conn: Connection, id_loja: int, entidade: str, id_registro: int, external_id: str
) -> None:
    """The store's ERP row ``id_registro`` is the CRM's ``external_id`` (it came from the CRM)."""
    conn.execute(
        _upsert_one(conn.dialect.name, "link"),
        {**_key(id_loja, entidade, id_registro), "v_external_id": external_id},
    )


def record_success(
    conn: Connection,
    id_loja: int,
    entidade: str,
    id_registro: int,
    external_id: str,
    payload_hash_: str | None,
    source_updated_at: datetime | None = None,
) -> None:
    """The CRM took the record (``source_updated_at``: the row's updated_at as sent)."""
    conn.execute(
        _upsert_one(conn.dialect.name, "success"),
        {
            **_key(id_loja, entidade, id_registro),
            "v_external_id": external_id,
            "v_payload_hash": payload_hash_,
            "v_source_updated_at": source_updated_at,
        },
    )


def record_unchanged(
    conn: Connection, id_loja: int, entidade: str, id_registro: int, source_updated_at: Any
) -> None:
    """The row was touched but sends the same payload: its updated_at is the one sent."""
    conn.execute(
        sa.update(crm_sync_state)
        .where(
            crm_sync_state.c.id_loja == id_loja,
            crm_sync_state.c.entidade == entidade,
            crm_sync_state.c.id_registro == id_registro,
        )
        .values(source_updated_at=source_updated_at)
    )


def record_exchange(
    conn: Connection,
    id_loja: int,
    entidade: str,
    id_registro: int,
    external_id: str,
    payload_hash_: str | None,
    source_updated_at: datetime | None,
    received_hash: str | None,
) -> None:
    """The CRM's record (``received_hash``) was written into the ERP row, which would
    now send ``payload_hash_`` (None: unknown, the next send compares afresh)."""
    conn.execute(
        _upsert_one(conn.dialect.name, "exchange"),
        {
            **_key(id_loja, entidade, id_registro),
            "v_external_id": external_id,
            "v_payload_hash": payload_hash_,
            "v_source_updated_at": source_updated_at,
            "v_received_hash": received_hash,
        },
    )


def load(conn: Connection, id_loja: int, entidade: str, id_registro: int) -> SyncState | None:
    """One record's state for the store (None: never linked)."""
    row = conn.execute(
        sa.select(
            crm_sync_state.c.external_id,
            crm_sync_state.c.payload_hash,
            crm_sync_state.c.create_started_at,
            crm_sync_state.c.source_updated_at,
            crm_sync_state.c.received_hash,
        ).where(_KEY),
        _key(id_loja, entidade, id_registro),
    ).first()
    return SyncState(*row) if row is not None else None


def received_hashes(
    conn: Connection, id_loja: int, entidade: str, external_ids: list[str]
) -> dict[str, set[str | None]]:
    """What the store last read of each CRM record, by CRM id (a set: two ERP rows
    may claim one record)."""
    if not external_ids:
        return {}
    rows = conn.execute(
        sa.select(crm_sync_state.c.external_id, crm_sync_state.c.received_hash).where(
            crm_sync_state.c.id_loja == id_loja,
            crm_sync_state.c.entidade == entidade,
            crm_sync_state.c.external_id.in_(sorted(set(external_ids))),
        )
    )
    found: dict[str, set[str | None]] = {}
    for external_id, digest in rows:
        found.setdefault(str(external_id), set()).add(digest)
    return found
