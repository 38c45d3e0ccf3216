"""The sync queue (``crm_sync_queue``): every statement that reads or moves an item.

An item's state is where it sits plus a lease: ``pending`` → ``processing``
(owner + expiry) → ``completed`` | ``failed``, or back to ``pending`` with a
``proximo_retry``. Crash recovery is a query for expired leases. Attempts are
counted when an item is claimed, so an item that kills its run still runs out
of attempts. Every finalising statement names the lease owner: a run that lost
its lease cannot overwrite another run's result. All times are the database's
clock (UTC).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from crm_cli.db.ddl import DbNow, DbNowPlus
from crm_cli.db.schema import crm_sync_queue as Q
from crm_cli.errors import DatabaseError

ERP_TO_CRM = "ecletech_para_crm"
CRM_TO_ERP = "crm_para_ecletech"
DIRECTIONS = (ERP_TO_CRM, CRM_TO_ERP)
LOCK_TIMEOUT = 10  # seconds to wait for a named lock (enqueue dedupe, old-server claims)


@dataclass(frozen=True)
class QueueItem:
    id: int
    id_loja: int
    entidade: str
    id_registro: int | None
    direcao: str
    prioridade: int
    tentativas: int  # including the attempt under way
    external_id: str | None
    status: str = "pending"
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


_ITEM_COLUMNS = (
    Q.c.id,
    Q.c.id_loja,
    Q.c.entidade,
    Q.c.id_registro,
    Q.c.direcao,
    Q.c.prioridade,
    Q.c.tentativas,
    Q.c.external_id,
    Q.c.status,
    Q.c.criado_em,
)


def _item(row: sa.Row) -> QueueItem:
    return QueueItem(
        id=row.id,
        id_loja=row.id_loja,
        entidade=row.entidade,
        id_registro=row.id_registro,
        direcao=row.direcao,
        prioridade=row.prioridade or 0,
        tentativas=row.tentativas or 0,
        external_id=row.external_id,
        status=row.status or "pending",
        criado_em=row.criado_em,
    )


def _is_mysql(conn: Connection | Engine) -> bool:
    return conn.dialect.name in ("mysql", "mariadb")


def supports_skip_locked(conn: Connection) -> bool:
    """SKIP LOCKED exists from MySQL 8.0.1 and MariaDB 10.6."""
    if not _is_mysql(conn):
        return False
    version = conn.dialect.server_version_info or (0,)
    return version >= ((10, 6) if getattr(conn.dialect, "is_mariadb", False) else (8, 0, 1))


def _lock_name(name: str) -> str:
    return "crm_cli:" + hashlib.sha1(name.encode()).hexdigest()


@contextmanager
def named_lock(conn: Connection, name: str, timeout: int = LOCK_TIMEOUT) -> Iterator[bool]:
    """MySQL's GET_LOCK for the block (True when held); a no-op elsewhere."""
    if not _is_mysql(conn):
        yield True
        return
    lock = _lock_name(name)
    got = conn.execute(sa.text("SELECT GET_LOCK(:n, :t)"), {"n": lock, "t": timeout}).scalar()
    conn.commit()  # the lock belongs to the session, not to this (auto-begun) transaction
    try:
        yield got == 1
    finally:
        if got == 1:
            conn.execute(sa.text("SELECT RELEASE_LOCK(:n)"), {"n": lock})
            conn.commit()


class RecordLocks:
    """The locks on the records of a run's claimed items (MySQL; SQLite claims skip
    records another run is processing instead).

    Two items for the same record (a change queued while an earlier one is in
    flight) must never be processed at once, or both could create it in the
    CRM. Right after its claim a run locks every claimed record in one
    statement and holds the locks until it exits: an item whose record another
    run holds goes back to the queue. The locks live on a session of their own
    in autocommit mode (a named lock belongs to the session, not to a
    transaction).
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._conn: Connection | None = None
        self._held: list[str] = []

    def take(self, items: list[QueueItem]) -> list[QueueItem]:
        """Lock the items' records; the items whose record another run holds."""
        if not items or not _is_mysql(self._engine):
            return []
        if self._conn is None:
            self._conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        names = [_lock_name(f"record:{item.key}") for item in items]
        got = self._conn.execute(*_each_lock("GET_LOCK(:{}, 0)", names)).one()
        self._held += [name for name, ok in zip(names, got, strict=True) if ok == 1]
        return [item for item, ok in zip(items, got, strict=True) if ok != 1]

    def close(self) -> None:
        if self._conn is None:
            return
        try:
            if self._held:
                self._conn.execute(*_each_lock("RELEASE_LOCK(:{})", self._held))
        finally:
            self._held = []
            self._conn.close()
            self._conn = None


def _each_lock(call: str, names: list[str]) -> tuple[sa.TextClause, dict[str, str]]:
    """One SELECT applying ``call`` (with ``{}`` for the parameter) to every lock name."""
    params = {f"n{i}": name for i, name in enumerate(names)}
    return sa.text("SELECT " + ", ".join(call.format(key) for key in params)), params


def pending_by_record() -> sa.ColumnElement[bool]:
    """``status = 'pending'`` that no index can serve, for lookups by record.

    Looking up one record's pending items must go through idx_entidade
    (entidade, id_registro); a plain ``status = 'pending'`` lets the planner
    pick idx_claim instead and scan every pending item, once per record — a
    full-sync of 100 000 rows then takes minutes instead of seconds.
    """
    return sa.func.coalesce(Q.c.status, "") == "pending"


def of_store(id_loja: int) -> sa.ColumnElement[bool]:
    """``id_loja = N`` that no index can serve (idx_loja), for lookups by record."""
    return Q.c.id_loja + 0 == id_loja


def _same_change(
    id_loja: int, entidade: str, id_registro: int | None, external_id: str | None, direcao: str
) -> sa.ColumnElement[bool]:
    record = (
        Q.c.id_registro == id_registro
        if id_registro is not None
        else sa.and_(Q.c.id_registro.is_(None), Q.c.external_id == external_id)
    )
    return sa.and_(
        Q.c.entidade == entidade,
        record,
        of_store(id_loja),
        Q.c.direcao == direcao,
        pending_by_record(),
        Q.c.deletado_em.is_(None),
    )


# -- enqueue ---------------------------------------------------------------------------


def enqueue(
    engine: Engine,
    *,
    id_loja: int,
    entidade: str,
    id_registro: int | None = None,
    direcao: str = ERP_TO_CRM,
    prioridade: int = 5,
    external_id: str | None = None,
) -> Enqueued:
    """Queue a change, or reuse the pending item for the same change (raising its priority).

    Safe when two processes enqueue the same record at once: on MySQL a named
    lock per change serialises them; on SQLite the first statement is a write,
    which holds the database's write lock until commit.
    """
    same = _same_change(id_loja, entidade, id_registro, external_id, direcao)
    with engine.connect() as conn:
        key = f"enqueue:{id_loja}:{entidade}:{id_registro}:{external_id}:{direcao}"
        with named_lock(conn, key) as held:
            if not held:
                raise DatabaseError("could not take the enqueue lock in 10 s (database busy?)")
            with conn.begin():
                raised = conn.execute(
                    sa.update(Q)
                    .where(same)
                    .values(
                        prioridade=sa.case(
                            (Q.c.prioridade < prioridade, prioridade), else_=Q.c.prioridade
                        )
                    )
                )
                if raised.rowcount:
                    existing = conn.execute(
                        sa.select(Q.c.id).where(same).order_by(Q.c.id).limit(1)
                    ).scalar_one()
                    return Enqueued(existing, reused=True)
                new_id = conn.execute(
                    sa.insert(Q).values(
                        id_loja=id_loja,
                        entidade=entidade,
                        id_registro=id_registro,
                        direcao=direcao,
                        prioridade=prioridade,
                        tentativas=0,
                        processado=0,
                        external_id=external_id,
                        status="pending",
                    )
                ).inserted_primary_key[0]
                return Enqueued(new_id, reused=False)


# -- claim ---------------------------------------------------------------------------------


def _due(id_loja: int | None, entidade: str | None) -> list[sa.ColumnElement[bool]]:
    where = [
        Q.c.status == "pending",
        Q.c.deletado_em.is_(None),
        sa.or_(Q.c.proximo_retry.is_(None), Q.c.proximo_retry <= DbNow()),
    ]
    if id_loja is not None:
        where.append(Q.c.id_loja == id_loja)
    if entidade is not None:
        where.append(Q.c.entidade == entidade)
    return where


CLAIM_ORDER = (Q.c.prioridade.desc(), Q.c.criado_em.asc(), Q.c.id.asc())


def due_items(
    engine: Engine, limit: int, id_loja: int | None = None, entidade: str | None = None
) -> list[QueueItem]:
    """What a run would claim now, claiming nothing (``sync --dry-run``)."""
    query = sa.select(*_ITEM_COLUMNS).where(*_due(id_loja, entidade)).order_by(*CLAIM_ORDER)
    with engine.connect() as conn:
        return [_item(r) for r in conn.execute(query.limit(limit))]


def recover_expired(engine: Engine, max_attempts: int) -> tuple[int, int]:
    """Items whose run died (lease expired): pending again, or failed when out of attempts.

    A plain read finds them, then they change by primary key. An UPDATE that
    searched for them through idx_claim would lock the index entries of the
    items other runs are finishing right now, and deadlock with those runs
    (finishing an item locks its row first, then its index entries).
    """
    with engine.begin() as conn:
        ids = list(
            conn.execute(
                sa.select(Q.c.id).where(Q.c.status == "processing", Q.c.lease_expires_at < DbNow())
            ).scalars()
        )
        if not ids:
            return 0, 0
        # Checked again (a late run may finish one meanwhile), in a form no
        # index on status can serve: the rows are reached by primary key.
        expired = sa.and_(
            Q.c.id.in_(ids),
            sa.func.coalesce(Q.c.status, "") == "processing",
            Q.c.lease_expires_at < DbNow(),
        )
        failed = conn.execute(
            sa.update(Q)
            .where(expired, Q.c.tentativas >= max_attempts)
            .values(
                status="failed",
                lease_owner=None,
                lease_expires_at=None,
                erro="the run processing it stopped before finishing, on every attempt",
                erro_mensagem="the run processing it stopped before finishing, on every attempt",
            )
        ).rowcount
        requeued = conn.execute(
            sa.update(Q)
            .where(expired)
            .values(status="pending", lease_owner=None, lease_expires_at=None)
        ).rowcount
    return requeued, failed


def claim(
    engine: Engine,
    *,
    owner: str,
    limit: int,
    lease_seconds: int,
    id_loja: int | None = None,
    entidade: str | None = None,
) -> list[QueueItem]:
    """Take up to ``limit`` due items for ``owner`` in one short transaction.

    MySQL/MariaDB: SELECT … FOR UPDATE SKIP LOCKED (or, on servers without it,
    the same under a GET_LOCK that serialises claims). SQLite: one write
    transaction. Two runs never claim the same item; duplicates of a claimed
    change (the PHP application may insert a record twice) are coalesced.
    """
    with engine.connect() as conn:
        if _is_mysql(conn) and not supports_skip_locked(conn):
            with named_lock(conn, "claim", timeout=30) as held:
                if not held:
                    return []
                return _claim(conn, owner, limit, lease_seconds, id_loja, entidade, False)
        return _claim(conn, owner, limit, lease_seconds, id_loja, entidade, _is_mysql(conn))


def claim_select(limit: int, id_loja: int | None = None, entidade: str | None = None) -> sa.Select:
    """The claim's SELECT: due items by priority, then age; served by idx_claim."""
    return sa.select(Q.c.id).where(*_due(id_loja, entidade)).order_by(*CLAIM_ORDER).limit(limit)


def _sqlite_claimable(limit: int, id_loja: int | None, entidade: str | None) -> sa.Select:
    """Due items whose record no other run is processing right now.

    SQLite serialises claims with its write lock, so this check is consistent
    there; MySQL runs hold a per-record lock while processing instead.
    """
    other = Q.alias("other")
    busy = (
        sa.select(sa.literal(1))
        .select_from(other)
        .where(
            other.c.status == "processing",
            other.c.id_loja == Q.c.id_loja,
            other.c.entidade == Q.c.entidade,
            other.c.direcao == Q.c.direcao,
            sa.or_(other.c.id_registro == Q.c.id_registro, other.c.external_id == Q.c.external_id),
        )
    )
    return claim_select(limit, id_loja, entidade).where(~busy.exists())


def _claim(
    conn: Connection,
    owner: str,
    limit: int,
    lease_seconds: int,
    id_loja: int | None,
    entidade: str | None,
    skip_locked: bool,
) -> list[QueueItem]:
    with conn.begin():
        if _is_mysql(conn):
            select = claim_select(limit, id_loja, entidade).with_for_update(skip_locked=skip_locked)
            ids = list(conn.execute(select).scalars())
            if not ids:
                return []
            chosen = Q.c.id.in_(ids)
        else:
            chosen = Q.c.id.in_(_sqlite_claimable(limit, id_loja, entidade))
        conn.execute(
            sa.update(Q)
            .where(chosen)
            .values(
                status="processing",
                lease_owner=owner,
                lease_expires_at=DbNowPlus(lease_seconds),
                started_at=DbNow(),
                tentativas=sa.func.coalesce(Q.c.tentativas, 0) + 1,
                batch_id=owner[:36],
            )
        )
        items = [
            _item(r)
            for r in conn.execute(
                sa.select(*_ITEM_COLUMNS)
                .where(Q.c.lease_owner == owner, Q.c.status == "processing")
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
            sa.select(*_ITEM_COLUMNS).where(
                pending_by_record(),
                Q.c.deletado_em.is_(None),
                Q.c.entidade.in_({i.entidade for i in kept.values()}),
                sa.or_(Q.c.id_registro.in_(records), Q.c.external_id.in_(externals)),
            )
        )
        for row in candidates:
            twin = kept.get(_item(row).key)
            if twin is not None and twin.id != row.id:
                duplicates.setdefault(twin.id, []).append(row.id)
    for into, ids in duplicates.items():
        _complete_as_duplicate(conn, Q.c.id.in_(ids), into, owner)
    return list(kept.values())


def _complete_as_duplicate(
    conn: Connection, which: sa.ColumnElement[bool], into: int, owner: str
) -> None:
    conn.execute(
        sa.update(Q)
        .where(which)
        .values(
            status="completed",
            processado=1,
            processado_em=DbNow(),
            completed_at=DbNow(),
            lease_owner=None,
            lease_expires_at=None,
            batch_id=owner[:36],
            erro_mensagem=f"coalesced into item #{into}",
        )
    )


# -- finishing an item ----------------------------------------------------------------------


def _mine(item: QueueItem, owner: str) -> sa.ColumnElement[bool]:
    return sa.and_(Q.c.id == item.id, Q.c.lease_owner == owner, Q.c.status == "processing")


_COMPLETE = (  # built once: it runs for nearly every item
    sa.update(Q)
    .where(
        Q.c.id == sa.bindparam("p_id"),
        Q.c.lease_owner == sa.bindparam("p_owner"),
        Q.c.status == "processing",
    )
    .values(
        status="completed",
        processado=1,
        processado_em=DbNow(),
        completed_at=DbNow(),
        tempo_processamento_ms=sa.bindparam("p_elapsed_ms"),
        erro=None,
        erro_mensagem=None,
        lease_owner=None,
        lease_expires_at=None,
        proximo_retry=None,
        external_id=sa.func.coalesce(
            sa.bindparam("p_external_id", type_=sa.String), Q.c.external_id
        ),
        id_registro=sa.func.coalesce(
            sa.bindparam("p_id_registro", type_=sa.Integer), Q.c.id_registro
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
    return conn.execute(_COMPLETE, params).rowcount == 1


def retry_later(
    conn: Connection, item: QueueItem, owner: str, message: str, delay_seconds: int
) -> bool:
    return (
        conn.execute(
            sa.update(Q)
            .where(_mine(item, owner))
            .values(
                status="pending",
                erro=message,
                erro_mensagem=message,
                proximo_retry=DbNowPlus(delay_seconds),
                lease_owner=None,
                lease_expires_at=None,
            )
        ).rowcount
        == 1
    )


def fail(conn: Connection, item: QueueItem, owner: str, message: str) -> bool:
    """Failed for good: not processed (processado stays 0), retried only by an operator."""
    return (
        conn.execute(
            sa.update(Q)
            .where(_mine(item, owner))
            .values(
                status="failed",
                erro=message,
                erro_mensagem=message,
                completed_at=DbNow(),
                lease_owner=None,
                lease_expires_at=None,
                proximo_retry=None,
            )
        ).rowcount
        == 1
    )


def release(
    engine: Engine, items: Iterable[QueueItem], owner: str, delay_seconds: int | None = None
) -> int:
    """Hand unprocessed items back, with their attempt (rate limit, time budget spent)."""
    ids = [item.id for item in items]
    if not ids:
        return 0
    values: dict = dict(
        status="pending",
        lease_owner=None,
        lease_expires_at=None,
        tentativas=sa.case((Q.c.tentativas > 0, Q.c.tentativas - 1), else_=0),
    )
    if delay_seconds:
        values["proximo_retry"] = DbNowPlus(delay_seconds)
    with engine.begin() as conn:
        return conn.execute(
            sa.update(Q)
            .where(Q.c.id.in_(ids), Q.c.lease_owner == owner, Q.c.status == "processing")
            .values(**values)
        ).rowcount
