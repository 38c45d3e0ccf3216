"""Finishing an item: completed, retried later, failed for good, or handed back."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from crm_cli.db.clock import app_offset_seconds
from crm_cli.db.ddl import DbNow, DbNowPlus
from crm_cli.db.schema import crm_sync_queue
from crm_cli.engine.queue.items import QueueItem
from crm_cli.engine.queue.waits import NO_WAIT, is_due, is_waiting, wait
from crm_cli.states import QueueStatus

# -- finishing an item ----------------------------------------------------------------------


def _mine(item: QueueItem, owner: str) -> sa.ColumnElement[bool]:
    return sa.and_(
        crm_sync_queue.c.id == item.id,
        crm_sync_queue.c.lease_owner == owner,
        crm_sync_queue.c.status == QueueStatus.PROCESSING,
    )


@functools.lru_cache(maxsize=4)
def _complete(app_offset: int) -> sa.Update:
    """Built once per offset of the app's clock: it runs for nearly every item."""
    return (
        sa.update(crm_sync_queue)
        .where(
            crm_sync_queue.c.id == sa.bindparam("p_id"),
            crm_sync_queue.c.lease_owner == sa.bindparam("p_owner"),
            crm_sync_queue.c.status == QueueStatus.PROCESSING,
        )
        .values(
            status=QueueStatus.COMPLETED,
            processado=1,
            processado_em=DbNowPlus(app_offset),  # the PHP application's clock
            completed_at=DbNow(),
            tempo_processamento_ms=sa.bindparam("p_elapsed_ms"),
            erro=None,
            erro_mensagem=None,
            lease_owner=None,
            lease_expires_at=None,
            **NO_WAIT,
            external_id=sa.func.coalesce(
                sa.bindparam("p_external_id", type_=sa.String), crm_sync_queue.c.external_id
            ),
            id_registro=sa.func.coalesce(
                sa.bindparam("p_id_registro", type_=sa.Integer), crm_sync_queue.c.id_registro
            ),
        )
    )


def complete(
    conn: Connection,
    item: QueueItem,
    owner: str,
    elapsed_ms: int,
    external_id: str | None = None,
    id_registro: int | None = None,
) -> bool:
    """Mark done; False when the lease was lost (another run owns the item now).

    ``external_id`` and ``id_registro`` are recorded when given, kept otherwise.
    """
    params = {
        "p_id": item.id,
        "p_owner": owner,
        "p_elapsed_ms": max(0, elapsed_ms),
        "p_external_id": external_id,
        "p_id_registro": id_registro,
    }
    return conn.execute(_complete(app_offset_seconds(conn)), params).rowcount == 1


def retry_later(
    conn: Connection, item: QueueItem, owner: str, message: str, delay_seconds: int
) -> bool:
    return (
        conn.execute(
            sa.update(crm_sync_queue)
            .where(_mine(item, owner))
            .values(
                status=QueueStatus.PENDING,
                processado=0,
                erro=message,
                erro_mensagem=message,
                **wait(conn, delay_seconds),
                lease_owner=None,
                lease_expires_at=None,
                claim_alone=0,  # it failed on its own terms: it did not kill its run
            )
        ).rowcount
        == 1
    )


def fail(conn: Connection, item: QueueItem, owner: str, message: str) -> bool:
    """Failed for good, retried only by an operator: ``processado = 1`` with
    ``processado_em`` NULL, so the PHP application neither counts it pending nor
    processed today, and queues its next change as a new item."""
    return (
        conn.execute(
            sa.update(crm_sync_queue)
            .where(_mine(item, owner))
            .values(
                status=QueueStatus.FAILED,
                processado=1,
                erro=message,
                erro_mensagem=message,
                completed_at=DbNow(),
                lease_owner=None,
                lease_expires_at=None,
                **NO_WAIT,
            )
        ).rowcount
        == 1
    )


# erro_mensagem of an item waiting for its store (attempt intact), so that
# ``config enable``, new credentials or ``queue retry`` can bring it back at once.
PARKED = "waiting for its store: "


@dataclass(frozen=True)
class Park:
    id_loja: int
    entidade: str
    until: Any  # proximo_retry, on the application's clock
    due: Any  # due_at, on the server's clock (see waits)
    reason: str  # erro_mensagem, PARKED and why


def release(
    database: Engine,
    items: Iterable[QueueItem],
    owner: str,
    delay_seconds: int | None = None,
    reason: str | None = None,
) -> int:
    """Hand unprocessed items back, with their attempt (rate limit, time budget spent);
    ``reason``: they wait for their store (see ``park_store``)."""
    ids = [item.id for item in items]
    if not ids:
        return 0
    values: dict = dict(
        status=QueueStatus.PENDING,
        processado=0,
        lease_owner=None,
        lease_expires_at=None,
        tentativas=sa.case(
            (crm_sync_queue.c.tentativas > 0, crm_sync_queue.c.tentativas - 1), else_=0
        ),
    )
    if delay_seconds:
        values.update(wait(database, delay_seconds))
    if reason:
        values["erro_mensagem"] = (PARKED + reason)[:2000]
    with database.begin() as conn:
        return conn.execute(
            sa.update(crm_sync_queue)
            .where(
                crm_sync_queue.c.id.in_(ids),
                crm_sync_queue.c.lease_owner == owner,
                crm_sync_queue.c.status == QueueStatus.PROCESSING,
            )
            .values(**values)
        ).rowcount


def park_store(
    database: Engine, id_loja: int, delay_seconds: int, reason: str, entidade: str | None = None
) -> int:
    """Every due item of the store (of one entity, when given) waits ``delay_seconds``,
    attempts intact: one statement, so later runs do not claim them only to hand them back."""
    waits = wait(database, delay_seconds)
    q = crm_sync_queue.c
    which = [
        q.id_loja == id_loja,
        q.status == QueueStatus.PENDING,
        q.deletado_em.is_(None),
        # never shortening a longer wait
        sa.or_(
            q.proximo_retry.is_(None),
            sa.and_(q.due_at.is_(None), q.proximo_retry < waits["proximo_retry"]),
            q.due_at < waits["due_at"],
        ),
    ]
    if entidade is not None:
        which.append(crm_sync_queue.c.entidade == entidade)
    with database.begin() as conn:
        return conn.execute(
            sa.update(crm_sync_queue)
            .where(*which)
            .values(**waits, erro_mensagem=(PARKED + reason)[:2000])
        ).rowcount


def parks(database: Engine) -> list[Park]:
    """The parks in force: each (store, entity) whose pending items wait for their store."""
    with database.connect() as conn:
        rows = conn.execute(
            sa.select(
                crm_sync_queue.c.id_loja,
                crm_sync_queue.c.entidade,
                sa.func.max(crm_sync_queue.c.proximo_retry),
                sa.func.max(crm_sync_queue.c.due_at),
                sa.func.max(crm_sync_queue.c.erro_mensagem),
            )
            .where(
                crm_sync_queue.c.status == QueueStatus.PENDING,
                crm_sync_queue.c.erro_mensagem.like(PARKED + "%"),
                is_waiting(database),
            )
            .group_by(crm_sync_queue.c.id_loja, crm_sync_queue.c.entidade)
        ).all()
    return [Park(*row) for row in rows]


def spread_parks(database: Engine, in_force: list[Park]) -> int:
    """New items of a parked store (and entity) wait with the others, until the park
    ends or an operator acts: a run never claims them only to be turned away again
    (a rejected login a minute can lock a CRM account)."""
    spread = 0
    with database.begin() as conn:
        for park in in_force:
            spread += conn.execute(
                sa.update(crm_sync_queue)
                .where(
                    crm_sync_queue.c.id_loja == park.id_loja,
                    crm_sync_queue.c.entidade == park.entidade,
                    crm_sync_queue.c.status == QueueStatus.PENDING,
                    crm_sync_queue.c.deletado_em.is_(None),
                    is_due(conn),
                )
                .values(proximo_retry=park.until, due_at=park.due, erro_mensagem=park.reason)
            ).rowcount
    return spread


def due_now(database: Engine, lojas: list[int]) -> int:
    """Every pending item of these stores is due at once, attempts intact (their CRM
    account's pause was lifted by an operator)."""
    with database.begin() as conn:
        return conn.execute(
            sa.update(crm_sync_queue)
            .where(
                crm_sync_queue.c.id_loja.in_(lojas),
                crm_sync_queue.c.status == QueueStatus.PENDING,
                crm_sync_queue.c.proximo_retry.is_not(None),
            )
            .values(**NO_WAIT)
        ).rowcount


def unpark_store(database: Engine, id_loja: int) -> int:
    """The store is usable again (enabled, new credentials): its waiting items are due now."""
    with database.begin() as conn:
        return conn.execute(
            sa.update(crm_sync_queue)
            .where(
                crm_sync_queue.c.id_loja == id_loja,
                crm_sync_queue.c.status == QueueStatus.PENDING,
                crm_sync_queue.c.erro_mensagem.like(PARKED + "%"),
            )
            .values(**NO_WAIT, erro_mensagem=None)
        ).rowcount
