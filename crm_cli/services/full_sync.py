"""``full-sync``: queue the live rows of an entity changed since they were last sent.

One INSERT … SELECT per chunk of primary keys (deduplicated against pending
items in the same statement), so 100 000 rows take seconds, and each
transaction stays short beside the PHP application's own writes. A row whose
``updated_at`` is the one it had when the store last sent it successfully
(``crm_sync_state.source_updated_at``) is not queued: the same column compared
with itself, never two clocks. ``changed_only=False`` (``--all``) queues every
live row. Items go with ``bulk`` set: runs claim them after the live changes of
the same priority.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from crm_cli.db.schema import crm_sync_state
from crm_cli.engine.entities import EntityTable
from crm_cli.engine.ownership import Ownership, ambiguity_message
from crm_cli.engine.queue.admin import enqueue_ids
from crm_cli.errors import NotFoundError
from crm_cli.integrations import Integracoes, StoreSummary
from crm_cli.providers.registry import get_provider
from crm_cli.settings import Settings

CHUNK = 5000


@dataclass(frozen=True)
class StoreQueued:
    id_loja: int
    provider: str
    rows: int  # live rows of the store
    queued: int  # new items
    skipped: str = ""  # why nothing was queued for this store
    unchanged: int = 0  # live rows as they were when last sent (not queued)


def _stores(integracoes: Integracoes, id_loja: int | None) -> list[StoreSummary]:
    stores = [s for s in integracoes.listar() if s.ativo]
    if id_loja is None:
        return stores
    chosen = [s for s in stores if s.id_loja == id_loja]
    if not chosen:
        raise NotFoundError(
            f"store {id_loja} has no active CRM integration (see 'crm-cli config list')"
        )
    return chosen


def full_sync(
    database: Engine,
    settings: Settings,
    integracoes: Integracoes,
    entidade: str,
    id_loja: int | None = None,
    prioridade: int = 0,
    chunk: int = CHUNK,
    on_chunk: Callable[[int, int], None] | None = None,
    changed_only: bool = True,
) -> list[StoreQueued]:
    """Queue the entity's live rows for every active store (or one); per-store results.

    Nothing is queued for an entity whose rows stores on several CRM accounts share
    with no owner configured: each store's line says what to set."""
    table = EntityTable(database, settings.entity(entidade))
    ownership = Ownership.of(integracoes)
    unsettled = (
        ambiguity_message(table.mapping, ownership.accounts())
        if ownership.ambiguous(table.mapping)
        else ""
    )
    results = []
    for store in _stores(integracoes, id_loja):
        if unsettled:
            results.append(StoreQueued(store.id_loja, store.provider, 0, 0, unsettled))
            continue
        if entidade not in get_provider(store.provider).entities:
            results.append(
                StoreQueued(
                    store.id_loja,
                    store.provider,
                    0,
                    0,
                    f"{store.provider} does not support {entidade}",
                )
            )
            continue
        results.append(
            _queue_store(
                database, table, store, entidade, prioridade, chunk, on_chunk, changed_only
            )
        )
    return results


def _sent_as_it_is(database: Engine, table: EntityTable, id_loja: int, entidade: str) -> sa.Select:
    """The row's last successful send, with the updated_at it has now."""
    state = crm_sync_state.c
    sent, now = state.source_updated_at, table.table.c[str(table.mapping.updated_at)]
    if database.dialect.name == "sqlite":  # text there: one form for both sides
        sent, now = sa.func.datetime(sent), sa.func.datetime(now)
    return sa.select(sa.literal(1)).where(
        state.id_loja == id_loja,
        state.entidade == entidade,
        state.id_registro == table.pk,
        state.payload_hash.is_not(None),
        sent.is_not_distinct_from(now),  # NULL as sent and NULL now: not changed either
    )


def _queue_store(
    database: Engine,
    table: EntityTable,
    store: StoreSummary,
    entidade: str,
    prioridade: int,
    chunk: int,
    on_chunk: Callable[[int, int], None] | None,
    changed_only: bool,
) -> StoreQueued:
    every = table.live_ids(store.id_loja)
    live = every
    if changed_only and table.mapping.updated_at:
        live = live.where(~_sent_as_it_is(database, table, store.id_loja, entidade).exists())
    with database.connect() as conn:
        rows = conn.execute(sa.select(sa.func.count()).select_from(every.subquery())).scalar_one()
        total = (
            rows
            if live is every
            else conn.execute(sa.select(sa.func.count()).select_from(live.subquery())).scalar_one()
        )
    queued, done, last = 0, 0, None
    while done < total:
        page = live.order_by(table.pk)
        if last is not None:
            page = page.where(table.pk > last)
        with database.begin() as conn:
            upper = conn.execute(page.offset(chunk - 1).limit(1)).scalar()
            ids = page if upper is None else page.where(table.pk <= upper)
            queued += enqueue_ids(
                conn,
                id_loja=store.id_loja,
                entidade=entidade,
                ids=ids,
                prioridade=prioridade,
                bulk=True,
            )
        done = total if upper is None else done + chunk
        last = upper
        if on_chunk:
            on_chunk(min(done, total), total)
        if upper is None:
            break
    return StoreQueued(store.id_loja, store.provider, rows, queued, unchanged=rows - total)
