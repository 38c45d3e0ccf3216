"""Claiming due items for a run, and taking back those whose run died."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from crm_cli.db.clock import app_now
from crm_cli.db.ddl import DbNow, DbNowPlus
from crm_cli.db.retry import again_on_deadlock
from crm_cli.db.schema import crm_sync_queue
from crm_cli.engine.queue.items import ITEM_COLUMNS, QueueItem, item_of, pending_by_record
from crm_cli.engine.queue.locks import is_mysql, named_lock, supports_skip_locked
from crm_cli.engine.queue.waits import is_due
from crm_cli.states import QueueStatus

# -- claim ---------------------------------------------------------------------------------


def _due(
    bind: Engine | Connection,
    id_loja: int | None,
    entidade: str | None,
    alone: bool | None = False,
) -> list[sa.ColumnElement[bool]]:
    """Due items; ``alone``: only those to be claimed on their own (None: either)."""
    where = [
        crm_sync_queue.c.status == QueueStatus.PENDING,
        crm_sync_queue.c.deletado_em.is_(None),
        is_due(bind),  # a wait crm-cli set is a duration; PHP's, a wall time (waits)
    ]
    if alone is not None:
        where.append(crm_sync_queue.c.claim_alone == (1 if alone else 0))
    if id_loja is not None:
        where.append(crm_sync_queue.c.id_loja == id_loja)
    if entidade is not None:
        where.append(crm_sync_queue.c.entidade == entidade)
    return where


CLAIM_ORDER = (
    crm_sync_queue.c.prioridade.desc(),
    crm_sync_queue.c.bulk.asc(),  # full-sync's backlog after live changes (idx_claim)
    crm_sync_queue.c.criado_em.asc(),
    crm_sync_queue.c.id.asc(),
)


def due_items(
    database: Engine, limit: int, id_loja: int | None = None, entidade: str | None = None
) -> list[QueueItem]:
    """What a run would claim now, claiming nothing (``sync --dry-run``)."""
    query = (
        sa.select(*ITEM_COLUMNS)
        .where(*_due(database, id_loja, entidade, None))
        .order_by(*CLAIM_ORDER)
    )
    with database.connect() as conn:
        return [item_of(r) for r in conn.execute(query.limit(limit))]


def recover_expired(database: Engine, max_attempts: int) -> tuple[int, int]:
    """Items whose run died (lease expired): pending again, or failed when out of attempts.

    Which of a run's items killed it is not known, so none is blamed while it
    had company: each gets its attempt back and is claimed alone next time
    (``claim_alone``). An item whose run died holding only it keeps the
    attempt, and fails once it has used them all.

    A plain read finds them, then they change by primary key. An UPDATE that
    searched for them through idx_claim would lock the index entries of the
    items other runs are finishing right now, and deadlock with those runs
    (finishing an item locks its row first, then its index entries).
    """
    with database.begin() as conn:
        rows = conn.execute(
            sa.select(crm_sync_queue.c.id, crm_sync_queue.c.lease_owner).where(
                crm_sync_queue.c.status == QueueStatus.PROCESSING,
                crm_sync_queue.c.lease_expires_at < DbNow(),
            )
        ).all()
        if not rows:
            return 0, 0
        by_run: dict[str | None, list[int]] = {}
        for row in rows:
            by_run.setdefault(row.lease_owner, []).append(row.id)
        alone = [ids[0] for ids in by_run.values() if len(ids) == 1]
        together = [i for ids in by_run.values() if len(ids) > 1 for i in ids]
        failed = 0
        if alone:
            failed = conn.execute(
                sa.update(crm_sync_queue)
                .where(_expired(alone), crm_sync_queue.c.tentativas >= max_attempts)
                .values(
                    status=QueueStatus.FAILED,
                    processado=1,
                    lease_owner=None,
                    lease_expires_at=None,
                    erro=KILLED_ITS_RUN,
                    erro_mensagem=KILLED_ITS_RUN,
                )
            ).rowcount
        requeued = conn.execute(
            sa.update(crm_sync_queue)
            .where(_expired(alone))
            .values(
                status=QueueStatus.PENDING, processado=0, lease_owner=None, lease_expires_at=None
            )
        ).rowcount
        if together:
            requeued += conn.execute(
                sa.update(crm_sync_queue)
                .where(_expired(together))
                .values(
                    status=QueueStatus.PENDING,
                    processado=0,
                    lease_owner=None,
                    lease_expires_at=None,
                    claim_alone=1,
                    tentativas=sa.case(
                        (crm_sync_queue.c.tentativas > 0, crm_sync_queue.c.tentativas - 1), else_=0
                    ),
                )
            ).rowcount
    return requeued, failed


KILLED_ITS_RUN = "the run processing it alone stopped before finishing, on every attempt"


def _expired(ids: list[int]) -> sa.ColumnElement[bool]:
    # Checked again (a late run may finish one meanwhile), in a form no
    # index on status can serve: the rows are reached by primary key.
    return sa.and_(
        crm_sync_queue.c.id.in_(ids),
        sa.func.coalesce(crm_sync_queue.c.status, "") == QueueStatus.PROCESSING,
        crm_sync_queue.c.lease_expires_at < DbNow(),
    )


def claim(
    database: Engine,
    *,
    owner: str,
    limit: int,
    lease_seconds: int,
    id_loja: int | None = None,
    entidade: str | None = None,
    alone: bool = False,
) -> list[QueueItem]:
    """Take up to ``limit`` due items for ``owner`` in one short transaction
    (``alone``: only an item to be claimed on its own; see ``recover_expired``).

    MySQL/MariaDB: SELECT … FOR UPDATE SKIP LOCKED (or, on servers without it,
    the same under a GET_LOCK that serialises claims). SQLite: one write
    transaction. Two runs never claim the same item; duplicates of a claimed
    change (the PHP application may insert a record twice) are coalesced.
    """
    if alone:
        limit = 1
    where = _due(database, id_loja, entidade, alone)
    with database.connect() as conn:
        if is_mysql(conn) and not supports_skip_locked(conn):
            with named_lock(conn, "claim", timeout=30) as held:
                if not held:
                    return []
                return again_on_deadlock(
                    lambda: _claim(conn, owner, limit, lease_seconds, where, False)
                )
        # overlapping runs coalescing the same duplicates may deadlock: again
        return again_on_deadlock(
            lambda: _claim(conn, owner, limit, lease_seconds, where, is_mysql(conn))
        )


def claim_select(
    limit: int,
    id_loja: int | None = None,
    entidade: str | None = None,
    where: list[sa.ColumnElement[bool]] | None = None,
    bind: Engine | Connection | None = None,
) -> sa.Select:
    """The claim's SELECT: due items by priority, then age; served by idx_claim
    (``where``: the due items' conditions, else those of ``bind``'s clock)."""
    if where is None:
        assert bind is not None, "claim_select needs where, or bind to work it out"
        where = _due(bind, id_loja, entidade)
    return sa.select(crm_sync_queue.c.id).where(*where).order_by(*CLAIM_ORDER).limit(limit)


def _sqlite_claimable(limit: int, where: list[sa.ColumnElement[bool]]) -> sa.Select:
    """Due items whose record no other run is processing right now.

    SQLite serialises claims with its write lock, so this check is consistent
    there; MySQL runs hold a per-record lock while processing instead.
    """
    other = crm_sync_queue.alias("other")
    busy = (
        sa.select(sa.literal(1))
        .select_from(other)
        .where(
            other.c.status == QueueStatus.PROCESSING,
            other.c.id_loja == crm_sync_queue.c.id_loja,
            other.c.entidade == crm_sync_queue.c.entidade,
            other.c.direcao == crm_sync_queue.c.direcao,
            sa.or_(
                other.c.id_registro == crm_sync_queue.c.id_registro,
                other.c.external_id == crm_sync_queue.c.external_id,
            ),
        )
    )
    return claim_select(limit, where=where).where(~busy.exists())


def _claim(
    conn: Connection,
    owner: str,
    limit: int,
    lease_seconds: int,
    where: list[sa.ColumnElement[bool]],
    skip_locked: bool,
) -> list[QueueItem]:
    with conn.begin():
        if is_mysql(conn):
            select = claim_select(limit, where=where).with_for_update(skip_locked=skip_locked)
            ids = list(conn.execute(select).scalars())
            if not ids:
                return []
            chosen = crm_sync_queue.c.id.in_(ids)
        else:
            chosen = crm_sync_queue.c.id.in_(_sqlite_claimable(limit, where))
        conn.execute(
            sa.update(crm_sync_queue)
            .where(chosen)
            .values(
                status=QueueStatus.PROCESSING,
                # not absorbable: a change the PHP application queues meanwhile
                # is a new item, sent after this one (see the package's doc)
                processado=1,
                lease_owner=owner,
                lease_expires_at=DbNowPlus(lease_seconds),
                started_at=DbNow(),
                tentativas=sa.func.coalesce(crm_sync_queue.c.tentativas, 0) + 1,
            )
        )
        items = [
            item_of(r)
            for r in conn.execute(
                sa.select(*ITEM_COLUMNS)
                .where(
                    crm_sync_queue.c.lease_owner == owner,
                    crm_sync_queue.c.status == QueueStatus.PROCESSING,
                )
                .order_by(*CLAIM_ORDER)
            )
        ]
        return _coalesce(conn, owner, items)


def _coalesce(conn: Connection, owner: str, items: list[QueueItem]) -> list[QueueItem]:
    """Keep one item per change; the others (claimed or pending) are completed into it.

    One SELECT finds the pending duplicates of the whole batch (through
    idx_entidade), then one UPDATE per kept item that has any: a batch without
    duplicates costs a single query.
    """
    kept: dict[tuple, QueueItem] = {}
    duplicates: dict[int, list[int]] = {}
    for item in items:
        first = kept.setdefault(item.key, item)
        if first is not item:
            duplicates.setdefault(first.id, []).append(item.id)
    records = [i.id_registro for i in kept.values() if i.id_registro is not None]
    externals = [i.external_id for i in kept.values() if i.id_registro is None and i.external_id]
    if records or externals:
        candidates = conn.execute(
            sa.select(*ITEM_COLUMNS).where(
                pending_by_record(),
                crm_sync_queue.c.deletado_em.is_(None),
                crm_sync_queue.c.entidade.in_({i.entidade for i in kept.values()}),
                sa.or_(
                    crm_sync_queue.c.id_registro.in_(records),
                    crm_sync_queue.c.external_id.in_(externals),
                ),
            )
        )
        for row in candidates:
            twin = kept.get(item_of(row).key)
            if twin is not None and twin.id != row.id:
                duplicates.setdefault(twin.id, []).append(row.id)
    for into, ids in duplicates.items():
        _complete_as_duplicate(conn, crm_sync_queue.c.id.in_(ids), into, owner)
    return list(kept.values())


def _complete_as_duplicate(
    conn: Connection, which: sa.ColumnElement[bool], into: int, owner: str
) -> None:
    conn.execute(
        sa.update(crm_sync_queue)
        .where(which)
        .values(
            status=QueueStatus.COMPLETED,
            processado=1,
            processado_em=app_now(conn),
            completed_at=DbNow(),
            lease_owner=None,
            lease_expires_at=None,
            erro_mensagem=f"coalesced into item #{into}",
        )
    )
