"""Writing what became of finished items: local writes, queue states and log rows,
for several items in one transaction.

If a log row cannot be written, the transaction is done again without it: the
outcomes are kept, and the run reports the log error.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field, replace

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from crm_cli.db.retry import ATTEMPTS, PAUSE_SECONDS, gave_up
from crm_cli.engine import queue
from crm_cli.engine.failures import refused_row
from crm_cli.engine.outcome import Outcome
from crm_cli.engine.queue import QueueItem
from crm_cli.engine.retry import RetryPolicy
from crm_cli.engine.synclog import log_row, write_logs
from crm_cli.errors import RowRefused
from crm_cli.states import OutcomeKind


@dataclass(frozen=True)
class Finished:
    """A processed item waiting for its commit."""

    item: QueueItem
    outcome: Outcome
    elapsed_ms: int = 0
    at: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class Written:
    """A finished item as committed: its outcome as recorded (the ERP may have refused
    its record), the id of a record it inserted, and whether it still held its lease."""

    item: QueueItem
    outcome: Outcome
    new_id: int | None
    owned: bool


class Committer:
    """Commits finished items for the run that holds them (``owner``)."""

    def __init__(
        self, database: Engine, owner: str, policy: RetryPolicy, rng: random.Random
    ) -> None:
        self.database, self.owner, self.policy, self.rng = database, owner, policy, rng

    def _set_state(
        self,
        conn: Connection,
        item: QueueItem,
        outcome: Outcome,
        elapsed_ms: int,
        new_id: int | None,
    ) -> bool:
        if outcome.kind is OutcomeKind.COMPLETED:
            return queue.complete(
                conn,
                item,
                self.owner,
                elapsed_ms,
                outcome.external_id,
                new_id if item.id_registro is None else None,
            )
        if outcome.kind is OutcomeKind.FAILED:
            return queue.fail(conn, item, self.owner, outcome.message)
        delay = self.policy.delay(item.tentativas, self.rng)
        return queue.retry_later(conn, item, self.owner, outcome.message, delay)

    def commit(
        self, finished: list[Finished], log_errors: list[str], queued: bool = True
    ) -> list[Written]:
        """Local writes, item states and log rows of ``finished``, in one transaction;
        each item as written.

        If a log row cannot be written, the transaction is done again without
        it: the outcomes are kept, and the run reports the log error. If the
        ERP refuses an item's record (NOT NULL, a constraint, data too long),
        it is done again with that item failed: the others are kept.
        """
        finished = list(finished)
        unlogged: set[int] = set()
        one_by_one = False  # the log rows in one statement, until one of them fails
        deadlocks = 0
        while True:
            try:
                with self.database.begin() as conn:
                    written, logs = [], {}
                    for index, each in enumerate(finished):
                        new_id, owned = self._write_outcome(conn, index, each, queued)
                        written.append(Written(each.item, each.outcome, new_id, owned))
                        if index not in unlogged:
                            logs[index] = self._log_row(each, new_id)
                    _write_logs(conn, logs, one_by_one)
                    return written
            except sa.exc.OperationalError as exc:
                # the server broke a deadlock with an overlapping run: again, a few times
                deadlocks += 1
                if not gave_up(exc) or deadlocks >= ATTEMPTS:
                    raise
                time.sleep(PAUSE_SECONDS * deadlocks)
            except RowRefused as refused:
                assert refused.position is not None  # raised by _write_outcome, which says
                each = finished[refused.position]
                outcome = Outcome(
                    OutcomeKind.FAILED,
                    f"the ERP refused the record: {refused}",
                    sent=each.outcome.sent,
                    received=each.outcome.received,
                )
                finished[refused.position] = replace(each, outcome=outcome)
            except _LogFailed as failed:
                if failed.index is None:
                    one_by_one = True  # which row? one at a time tells
                    continue
                unlogged.add(failed.index)
                log_errors.append(f"item #{finished[failed.index].item.id}: {failed}")

    def _write_outcome(
        self, conn: Connection, index: int, finished: Finished, queued: bool
    ) -> tuple[int | None, bool]:
        item, outcome = finished.item, finished.outcome
        applies = outcome.apply is not None and (queued or outcome.kind is OutcomeKind.COMPLETED)
        try:
            new_id = outcome.apply(conn) if applies and outcome.apply else None
        except sa.exc.SQLAlchemyError as exc:
            why = refused_row(exc)
            if why is None:
                raise  # the database itself: what that means is the caller's
            raise RowRefused(why, position=index) from exc
        if not queued:
            return new_id, True
        return new_id, self._set_state(conn, item, outcome, finished.elapsed_ms, new_id)

    @staticmethod
    def _log_row(finished: Finished, new_id: int | None) -> dict:
        item, outcome = finished.item, finished.outcome
        return log_row(
            id_loja=item.id_loja,
            entidade=item.entidade,
            id_registro=item.id_registro or new_id,
            direcao=item.direcao,
            status=outcome.log_status,
            mensagem=f"item #{item.id}: {outcome.message}",
            enviados=outcome.sent,
            recebidos=outcome.received,
        )


def _write_logs(conn: Connection, logs: dict[int, dict], one_by_one: bool) -> None:
    """Log rows by item index: one statement, or one each to find the row that fails."""
    batches = [[index] for index in logs] if one_by_one else [list(logs)]
    for batch in batches:
        try:
            write_logs(conn, [logs[index] for index in batch])
        except sa.exc.SQLAlchemyError as exc:
            message = str(getattr(exc, "orig", exc)).splitlines()[0]
            raise _LogFailed(message, batch[0] if len(batch) == 1 else None) from exc


class _LogFailed(Exception):
    """A log row could not be written (the outcomes are written again without it)."""

    def __init__(self, message: str, index: int | None) -> None:
        super().__init__(message)
        self.index = index  # of the item in the transaction; None: one of several
