"""The states and kinds the shared tables hold, as enums (one spelling each).

Their values are what the PHP application and its screens read and write:
``crm_sync_queue.status`` and ``direcao``, ``crm_sync_log.status``. Being
``str`` enums, they compare equal to those strings and bind as them in SQL.
"""

from __future__ import annotations

import enum
import sys

if sys.version_info >= (3, 11):
    from enum import StrEnum
else:  # Python 3.10

    class StrEnum(str, enum.Enum):
        def __str__(self) -> str:
            return str(self.value)


class QueueStatus(StrEnum):
    """Where a queue item sits (``crm_sync_queue.status``)."""

    PENDING = "pending"
    PROCESSING = "processing"  # leased by a run
    COMPLETED = "completed"
    FAILED = "failed"  # for good: only an operator retries it


class Direction(StrEnum):
    """Which way a queue item goes (``crm_sync_queue.direcao``, the original's names)."""

    ERP_TO_CRM = "ecletech_para_crm"
    CRM_TO_ERP = "crm_para_ecletech"


class LogStatus(StrEnum):
    """A ``crm_sync_log`` row's verdict, as the PHP application's screens count it."""

    SUCESSO = "sucesso"
    ERRO = "erro"
    ALERTA = "alerta"  # nothing failed, but something waits (a paused account, a store)


class OutcomeKind(StrEnum):
    """What became of an item a run took."""

    COMPLETED = "completed"  # sent, adopted, unchanged or applied locally
    RETRY = "retry"  # failed this time: tried again after its backoff
    FAILED = "failed"  # failed for good
    RELEASED = "released"  # handed back unprocessed (account paused, record busy)
    PARKED = "parked"  # handed back: its store waits for an operator

    @property
    def log_status(self) -> LogStatus:
        if self is OutcomeKind.COMPLETED:
            return LogStatus.SUCESSO
        if self in (OutcomeKind.RELEASED, OutcomeKind.PARKED):
            return LogStatus.ALERTA
        return LogStatus.ERRO


class OnDelete(StrEnum):
    """What a deletion on one side does on the other (``entities.<e>.on_delete``)."""

    IGNORE = "ignore"  # nothing: each side keeps its record
    DEACTIVATE = "deactivate"  # the other side's own inactive flag (or archive)
    DELETE = "delete"  # deleted in the CRM; in the ERP, soft-deleted (never removed)


class RunKind(StrEnum):
    """The cron jobs whose runs are recorded (``crm_cli_runs.kind``)."""

    SYNC = "sync"
    PULL = "pull"
    SCHEDULES = "schedules"
    FULL_SYNC = "full-sync"
    IMPORT = "import"
    CLEANUP = "cleanup"


class RunOutcome(StrEnum):
    """How a recorded run ended (``crm_cli_runs.result``)."""

    RUNNING = "running"  # not ended (or died without a word: its age tells)
    OK = "ok"
    FAILED = "failed"  # stopped by an error (``error`` says which)
    INTERRUPTED = "interrupted"  # Ctrl-C or SIGTERM


class CheckStatus(enum.IntEnum):
    """``crm-cli check``'s verdict, and its exit code (the monitoring-plugin rules)."""

    OK = 0
    WARNING = 1
    CRITICAL = 2
    UNKNOWN = 3  # the check itself could not tell
