"""What operators and nightly jobs do to the queue: bulk enqueue, look, retry,
cancel, clean up, count."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from crm_cli.db.clock import app_now
from crm_cli.db.ddl import DbNow
from crm_cli.db.schema import crm_sync_queue
from crm_cli.engine.queue.finishing import PARKED
from crm_cli.engine.queue.items import of_store, pending_by_record
from crm_cli.engine.queue.waits import NO_WAIT, is_waiting
from crm_cli.errors import InvalidRequest, NotFoundError
from crm_cli.states import Direction, QueueStatus


def enqueue_ids(
    conn: Connection,
    *,
    id_loja: int,
    entidade: str,
    ids: sa.Select,
    prioridade: int,
    bulk: bool = False,
) -> int:
    """One INSERT … SELECT: queue every id of ``ids`` not already pending (ERP → CRM);
    ``bulk``: a backlog, claimed after the live changes of its priority."""
    ids = ids.subquery("rows")
    record = ids.c[0]
    pending = (
        sa.select(sa.literal(1))
        .select_from(crm_sync_queue)
        .where(
            crm_sync_queue.c.entidade == entidade,
            crm_sync_queue.c.id_registro == record,
            of_store(id_loja),
            crm_sync_queue.c.direcao == Direction.ERP_TO_CRM,
            pending_by_record(),
            crm_sync_queue.c.deletado_em.is_(None),
        )
    )
    rows = sa.select(
        sa.literal(id_loja),
        sa.literal(entidade),
        record,
        sa.literal(Direction.ERP_TO_CRM.value),
        sa.literal(prioridade),
        sa.literal(0),
        sa.literal(0),
        sa.literal(QueueStatus.PENDING.value),
        app_now(conn),  # criado_em on the PHP application's clock
        sa.literal(1 if bulk else 0),
    ).where(~pending.exists())
    columns = [
        "id_loja",
        "entidade",
        "id_registro",
        "direcao",
        "prioridade",
        "tentativas",
        "processado",
        "status",
        "criado_em",
        "bulk",
    ]
    return conn.execute(sa.insert(crm_sync_queue).from_select(columns, rows)).rowcount


def pending_count(database: Engine, id_loja: int | None = None) -> int:
    query = (
        sa.select(sa.func.count())
        .select_from(crm_sync_queue)
        .where(
            crm_sync_queue.c.status == QueueStatus.PENDING, crm_sync_queue.c.deletado_em.is_(None)
        )
    )
    if id_loja is not None:
        query = query.where(crm_sync_queue.c.id_loja == id_loja)
    with database.connect() as conn:
        return conn.execute(query).scalar_one()


def list_items(
    database: Engine,
    *,
    status: str | None = None,
    id_loja: int | None = None,
    entidade: str | None = None,
    limit: int = 50,
    since: Any = None,
    until: Any = None,
) -> list[dict[str, Any]]:
    """Items, newest first; ``since``/``until``: their criado_em (the PHP clock)."""
    query = (
        sa.select(crm_sync_queue)
        .where(crm_sync_queue.c.deletado_em.is_(None))
        .order_by(crm_sync_queue.c.id.desc())
        .limit(limit)
    )
    if status:
        query = query.where(crm_sync_queue.c.status == status)
    if id_loja is not None:
        query = query.where(crm_sync_queue.c.id_loja == id_loja)
    if entidade:
        query = query.where(crm_sync_queue.c.entidade == entidade)
    if since is not None:
        query = query.where(crm_sync_queue.c.criado_em >= since)
    if until is not None:
        query = query.where(crm_sync_queue.c.criado_em <= until)
    with database.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]


def waiting_stores(database: Engine, id_loja: int | None = None) -> list[dict[str, Any]]:
    """Stores whose items wait for them (disabled, unusable, turned away), with the reason."""
    query = (
        sa.select(
            crm_sync_queue.c.id_loja,
            sa.func.count().label("items"),
            sa.func.max(crm_sync_queue.c.erro_mensagem).label("reason"),
        )
        .where(
            crm_sync_queue.c.status == QueueStatus.PENDING,
            crm_sync_queue.c.erro_mensagem.like(PARKED + "%"),
            is_waiting(database),
        )
        .group_by(crm_sync_queue.c.id_loja)
        .order_by(crm_sync_queue.c.id_loja)
    )
    if id_loja is not None:
        query = query.where(crm_sync_queue.c.id_loja == id_loja)
    with database.connect() as conn:
        return [
            {"id_loja": r.id_loja, "items": r.items, "reason": r.reason[len(PARKED) :]}
            for r in conn.execute(query)
        ]


def get_item(database: Engine, item_id: int) -> dict[str, Any]:
    with database.connect() as conn:
        row = conn.execute(sa.select(crm_sync_queue).where(crm_sync_queue.c.id == item_id)).first()
    if row is None:
        raise NotFoundError(f"queue item #{item_id} does not exist")
    return dict(row._mapping)


def _check_ids(
    conn: Connection, ids: Sequence[int], allowed: tuple[QueueStatus, ...], verb: str
) -> None:
    """Every id exists, is live and is in an allowed state; else nothing is changed."""
    rows = {
        r.id: r
        for r in conn.execute(
            sa.select(
                crm_sync_queue.c.id, crm_sync_queue.c.status, crm_sync_queue.c.deletado_em
            ).where(crm_sync_queue.c.id.in_(list(ids)))
        )
    }
    for item_id in ids:
        row = rows.get(item_id)
        if row is None:
            raise NotFoundError(f"queue item #{item_id} does not exist")
        if row.deletado_em is not None:
            raise InvalidRequest(f"queue item #{item_id} was cancelled; it cannot be {verb}")
        if row.status not in allowed:
            raise InvalidRequest(
                f"queue item #{item_id} is {row.status}; only {' or '.join(allowed)} items "
                f"can be {verb}"
            )


def retry(
    database: Engine,
    ids: Sequence[int] = (),
    *,
    failed: bool = False,
    id_loja: int | None = None,
    entidade: str | None = None,
) -> list[int]:
    """Back to pending with attempts reset: the given items, or every failed one."""
    with database.begin() as conn:
        if ids:
            _check_ids(conn, ids, (QueueStatus.FAILED, QueueStatus.PENDING), "retried")
            which = crm_sync_queue.c.id.in_(list(ids))
        elif failed:
            which = sa.and_(
                crm_sync_queue.c.status == QueueStatus.FAILED,
                crm_sync_queue.c.deletado_em.is_(None),
            )
            if id_loja is not None:
                which = sa.and_(which, crm_sync_queue.c.id_loja == id_loja)
            if entidade:
                which = sa.and_(which, crm_sync_queue.c.entidade == entidade)
        else:
            raise InvalidRequest("nothing to retry: name the items, or ask for every failed one")
        chosen = list(
            conn.execute(
                sa.select(crm_sync_queue.c.id).where(which).order_by(crm_sync_queue.c.id)
            ).scalars()
        )
        if chosen:
            conn.execute(
                sa.update(crm_sync_queue)
                .where(crm_sync_queue.c.id.in_(chosen))
                .values(
                    status=QueueStatus.PENDING,
                    tentativas=0,
                    **NO_WAIT,
                    processado=0,
                    completed_at=None,
                    lease_owner=None,
                    lease_expires_at=None,
                )
            )
        return chosen


def cancel(database: Engine, ids: Sequence[int]) -> list[int]:
    """Soft-delete pending or failed items (the PHP application's own way to drop one)."""
    with database.begin() as conn:
        _check_ids(conn, ids, (QueueStatus.PENDING, QueueStatus.FAILED), "cancelled")
        conn.execute(
            sa.update(crm_sync_queue)
            .where(crm_sync_queue.c.id.in_(list(ids)))
            .values(deletado_em=app_now(conn))
        )
    return list(ids)


def delete_completed(
    database: Engine, older_than: dt.datetime, chunk: int, dry_run: bool = False
) -> int:
    """Delete completed items finished (``processado_em``, on the PHP application's clock)
    before ``older_than``, ``chunk`` rows per transaction.

    Pending, processing and failed items are never touched.
    """
    old = sa.and_(
        crm_sync_queue.c.status == QueueStatus.COMPLETED,
        crm_sync_queue.c.processado_em < older_than,
    )
    if dry_run:
        with database.connect() as conn:
            return conn.execute(
                sa.select(sa.func.count()).select_from(crm_sync_queue).where(old)
            ).scalar_one()
    deleted = 0
    while True:
        with database.begin() as conn:  # short transactions: the PHP app is never blocked long
            ids = list(
                conn.execute(sa.select(crm_sync_queue.c.id).where(old).limit(chunk)).scalars()
            )
            if ids:
                conn.execute(sa.delete(crm_sync_queue).where(crm_sync_queue.c.id.in_(ids)))
        deleted += len(ids)
        if len(ids) < chunk:
            return deleted


def counts(database: Engine, since: dt.datetime, id_loja: int | None = None) -> dict[str, Any]:
    """Queue figures for stats: by status, completed since a time, the oldest pending."""
    live = [crm_sync_queue.c.deletado_em.is_(None)]
    if id_loja is not None:
        live.append(crm_sync_queue.c.id_loja == id_loja)
    with database.connect() as conn:
        by_status = dict(
            conn.execute(
                sa.select(crm_sync_queue.c.status, sa.func.count())
                .where(*live)
                .group_by(crm_sync_queue.c.status)
            ).all()
        )
        completed_since = conn.execute(
            sa.select(sa.func.count())
            .select_from(crm_sync_queue)
            .where(
                *live,
                crm_sync_queue.c.status == QueueStatus.COMPLETED,
                crm_sync_queue.c.completed_at >= since,
            )
        ).scalar_one()
        oldest = conn.execute(
            sa.select(sa.func.min(crm_sync_queue.c.criado_em)).where(
                *live, crm_sync_queue.c.status == QueueStatus.PENDING
            )
        ).scalar()
        breakdown = conn.execute(
            sa.select(
                crm_sync_queue.c.id_loja,
                crm_sync_queue.c.entidade,
                crm_sync_queue.c.status,
                sa.func.count(),
            )
            .where(*live, crm_sync_queue.c.status != QueueStatus.COMPLETED)
            .group_by(crm_sync_queue.c.id_loja, crm_sync_queue.c.entidade, crm_sync_queue.c.status)
        ).all()
        done_breakdown = conn.execute(
            sa.select(crm_sync_queue.c.id_loja, crm_sync_queue.c.entidade, sa.func.count())
            .where(
                *live,
                crm_sync_queue.c.status == QueueStatus.COMPLETED,
                crm_sync_queue.c.completed_at >= since,
            )
            .group_by(crm_sync_queue.c.id_loja, crm_sync_queue.c.entidade)
        ).all()
        now, app_clock = conn.execute(sa.select(DbNow(), app_now(conn))).one()
    return {
        "by_status": {s.value: by_status.get(s, 0) for s in QueueStatus},
        "completed_since": completed_since,
        "oldest_pending": oldest,
        "now": now,
        "app_now": app_clock,  # the clock of criado_em (the oldest pending item's age)
        "breakdown": [tuple(r) for r in breakdown],
        "completed_breakdown": [tuple(r) for r in done_breakdown],
    }
