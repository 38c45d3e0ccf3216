"""``crm_sync_state``: per record, the last payload the CRM accepted and the create marker."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from crm_cli.db.ddl import DbNow
from crm_cli.db.schema import crm_sync_state as S


def payload_hash(payload: Any, external_id: str | None) -> str:
    text = json.dumps([payload, external_id], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _key(id_loja: int, entidade: str, id_registro: int) -> sa.ColumnElement[bool]:
    return sa.and_(S.c.id_loja == id_loja, S.c.entidade == entidade, S.c.id_registro == id_registro)


def load(conn: Connection, id_loja: int, entidade: str, id_registro: int) -> sa.Row | None:
    return conn.execute(sa.select(S).where(_key(id_loja, entidade, id_registro))).first()


def _upsert(conn: Connection, id_loja: int, entidade: str, id_registro: int, **values: Any) -> None:
    """One statement: INSERT … ON DUPLICATE KEY UPDATE (MySQL) / ON CONFLICT (SQLite)."""
    row = dict(id_loja=id_loja, entidade=entidade, id_registro=id_registro, **values)
    if conn.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert

        statement = (
            insert(S)
            .values(**row)
            .on_conflict_do_update(
                index_elements=[S.c.id_loja, S.c.entidade, S.c.id_registro], set_=values
            )
        )
    else:
        from sqlalchemy.dialects.mysql import insert

        statement = insert(S).values(**row).on_duplicate_key_update(**values)
    conn.execute(statement)


def mark_create_started(engine: Engine, id_loja: int, entidade: str, id_registro: int) -> None:
    """Committed before a create is sent: if the run dies, the next one knows to look first."""
    with engine.begin() as conn:
        _upsert(conn, id_loja, entidade, id_registro, create_started_at=DbNow())


def clear_create(conn: Connection, id_loja: int, entidade: str, id_registro: int) -> None:
    conn.execute(
        sa.update(S).where(_key(id_loja, entidade, id_registro)).values(create_started_at=None)
    )


def record_success(
    conn: Connection,
    id_loja: int,
    entidade: str,
    id_registro: int,
    external_id: str,
    payload_hash_: str | None,
) -> None:
    _upsert(
        conn,
        id_loja,
        entidade,
        id_registro,
        external_id=external_id,
        payload_hash=payload_hash_,
        synced_at=DbNow(),
        create_started_at=None,
    )
