"""A queue item, the predicates that find one record's items, and ``enqueue``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from crm_cli.db.clock import app_now
from crm_cli.db.schema import crm_sync_queue
from crm_cli.engine.queue.locks import named_lock
from crm_cli.errors import DatabaseError
from crm_cli.states import Direction, QueueStatus


@dataclass(frozen=True)
class QueueItem:
    id: int
    id_loja: int
    entidade: str
    id_registro: int | None
    direcao: Direction
    prioridade: int
    tentativas: int  # including the attempt under way
    external_id: str | None
    status: QueueStatus = QueueStatus.PENDING
    criado_em: datetime | None = None

    @property
    def key(self) -> tuple:
        """What makes two items the same change: store, entity, record, direction."""
        record = self.id_registro if self.id_registro is not None else f"ext:{self.external_id}"
        return (self.id_loja, self.entidade, record, self.direcao)


@dataclass(frozen=True)
class Enqueued:
    id: int
    reused: bool


ITEM_COLUMNS = (
    crm_sync_queue.c.id,
    crm_sync_queue.c.id_loja,
    crm_sync_queue.c.entidade,
    crm_sync_queue.c.id_registro,
    crm_sync_queue.c.direcao,
    crm_sync_queue.c.prioridade,
    crm_sync_queue.c.tentativas,
    crm_sync_queue.c.external_id,
    crm_sync_queue.c.status,
    crm_sync_queue.c.criado_em,
)


def item_of(row: sa.Row) -> QueueItem:
    return QueueItem(
        id=row.id,
        id_loja=row.id_loja,
        entidade=row.entidade,
        id_registro=row.id_registro,
        direcao=Direction(row.direcao),
        prioridade=row.prioridade or 0,
        tentativas=row.tentativas or 0,
        external_id=row.external_id,
        status=QueueStatus(row.status or QueueStatus.PENDING),
        criado_em=row.criado_em,
    )


def pending_by_record() -> sa.ColumnElement[bool]:
    """``status = 'pending'`` that no index can serve, for lookups by record.

    Looking up one record's pending items must go through idx_entidade
    (entidade, id_registro); a plain ``status = 'pending'`` lets the planner
    pick idx_claim instead and scan every pending item, once per record — a
    full-sync of 100 000 rows then takes minutes instead of seconds.
    """
    return sa.func.coalesce(crm_sync_queue.c.status, "") == QueueStatus.PENDING


def of_store(id_loja: int) -> sa.ColumnElement[bool]:
    """``id_loja = N`` that no index can serve (idx_loja), for lookups by record."""
    return crm_sync_queue.c.id_loja + 0 == id_loja


def _same_change(
    id_loja: int,
    entidade: str,
    id_registro: int | None,
    external_id: str | None,
    direcao: Direction,
) -> sa.ColumnElement[bool]:
    record = (
        crm_sync_queue.c.id_registro == id_registro
        if id_registro is not None
        else sa.and_(
            crm_sync_queue.c.id_registro.is_(None), crm_sync_queue.c.external_id == external_id
        )
    )
    return sa.and_(
        crm_sync_queue.c.entidade == entidade,
        record,
        of_store(id_loja),
        crm_sync_queue.c.direcao == direcao,
        pending_by_record(),
        crm_sync_queue.c.deletado_em.is_(None),
    )


# -- enqueue ---------------------------------------------------------------------------


def enqueue(
    database: Engine,
    *,
    id_loja: int,
    entidade: str,
    id_registro: int | None = None,
    direcao: Direction = Direction.ERP_TO_CRM,
    prioridade: int = 5,
    external_id: str | None = None,
) -> Enqueued:
    """Queue a change, or reuse the pending item for the same change (raising its priority).

    Safe when two processes enqueue the same record at once: on MySQL a named
    lock per change serialises them; on SQLite the first statement is a write,
    which holds the database's write lock until commit.
    """
    same = _same_change(id_loja, entidade, id_registro, external_id, direcao)
    with database.connect() as conn:
        key = f"enqueue:{id_loja}:{entidade}:{id_registro}:{external_id}:{direcao}"
        with named_lock(conn, key) as held:
            if not held:
                raise DatabaseError("could not take the enqueue lock in 10 s (database busy?)")
            with conn.begin():
                raised = conn.execute(
                    sa.update(crm_sync_queue)
                    .where(same)
                    .values(
                        prioridade=sa.case(
                            (crm_sync_queue.c.prioridade < prioridade, prioridade),
                            else_=crm_sync_queue.c.prioridade,
                        )
                    )
                )
                if raised.rowcount:
                    existing = conn.execute(
                        sa.select(crm_sync_queue.c.id)
                        .where(same)
                        .order_by(crm_sync_queue.c.id)
                        .limit(1)
                    ).scalar_one()
                    return Enqueued(existing, reused=True)
                new_id = conn.execute(
                    sa.insert(crm_sync_queue).values(
                        id_loja=id_loja,
                        entidade=entidade,
                        id_registro=id_registro,
                        direcao=direcao,
                        prioridade=prioridade,
                        tentativas=0,
                        processado=0,
                        external_id=external_id,
                        criado_em=app_now(conn),  # as the PHP application writes it
                        status=QueueStatus.PENDING,
                    )
                ).inserted_primary_key[0]
                return Enqueued(new_id, reused=False)
