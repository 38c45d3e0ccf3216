"""The sync queue (``crm_sync_queue``): every statement that reads or changes it.

An item's state is where it sits plus a lease: ``pending`` → ``processing``
(owner + expiry) → ``completed`` | ``failed``, or back to ``pending`` with a
``proximo_retry``. Crash recovery is a query for expired leases. Attempts are
counted when an item is claimed, so an item that kills its run still runs out
of attempts. Every finalising statement names the lease owner: a run that lost
its lease cannot overwrite another run's result. All times are the database's
clock (UTC).

The PHP application reads the original columns only (``processado``,
``processado_em``, ``erro``, ``tentativas``), so every state answers its
statements truthfully (php-app-behaviour.md):

    status      processado  processado_em  to PHP
    pending     0           NULL           pending; its enqueue reuses it
    processing  1           NULL           in flight: not pending, and a change
                                           queued meanwhile is a new item
    completed   1           set            processed (today's count)
    failed      1           NULL           not pending, not processed today;
                                           ``erro`` says why

``batch_id`` is the PHP application's (v3 counts its batches by it): crm-cli
never writes it; a run is ``lease_owner``.

The worker's path: ``items`` (the item, ``enqueue``), ``claims``, ``finishing``
and ``locks``; ``admin`` is what operators and nightly jobs do (bulk enqueue,
list, retry, cancel, clean up, count).
"""

from crm_cli.engine.queue.claims import claim, claim_select, due_items, recover_expired
from crm_cli.engine.queue.finishing import (
    PARKED,
    Park,
    complete,
    due_now,
    fail,
    park_store,
    parks,
    release,
    retry_later,
    spread_parks,
    unpark_store,
)
from crm_cli.engine.queue.items import Enqueued, QueueItem, enqueue
from crm_cli.engine.queue.locks import RecordLocks, named_lock, supports_skip_locked

__all__ = [
    "PARKED",
    "Enqueued",
    "Park",
    "QueueItem",
    "RecordLocks",
    "claim",
    "claim_select",
    "complete",
    "due_items",
    "due_now",
    "enqueue",
    "fail",
    "named_lock",
    "park_store",
    "parks",
    "recover_expired",
    "release",
    "retry_later",
    "spread_parks",
    "supports_skip_locked",
    "unpark_store",
]
