"""The sync queue (``crm_sync_queue``): every statement that reads or changes it.

``core`` is the worker's path (enqueue, claim, finish); ``admin`` is what
operators and nightly jobs do (bulk enqueue, list, retry, cancel, clean up, count).
"""

from crm_cli.engine.queue.core import (  # noqa: F401  (the package's interface)
    CRM_TO_ERP,
    DIRECTIONS,
    ERP_TO_CRM,
    Enqueued,
    QueueItem,
    RecordLocks,
    claim,
    claim_select,
    complete,
    due_items,
    enqueue,
    fail,
    named_lock,
    recover_expired,
    release,
    retry_later,
    supports_skip_locked,
)
