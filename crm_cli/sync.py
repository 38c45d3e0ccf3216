"""A cron run: claim up to 100 due items, take each through its CRM, commit, exit.

Safe when runs overlap (leases; per-record locks on MySQL), when a run dies
(expired leases are claimed again, creates are looked up before being
repeated), and under provider limits (the shared rate limiter; a 429 hands the
remaining items back without costing them an attempt).
"""

from __future__ import annotations

import random
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from crm_cli import queue
from crm_cli.queue import ERP_TO_CRM, QueueItem
from crm_cli.retry import RetryPolicy
from crm_cli.settings import MAX_BATCH_SIZE, Settings
from crm_cli.synclog import write_log

if TYPE_CHECKING:
    from crm_cli.credentials import CredentialCipher
    from crm_cli.processing import Outcome, Processor

RATE_LIMIT_RETRIES = 2  # waits for a provider's pause within one run, per item
BUSY_RECORD_DELAY = 5  # seconds before an item whose record another run holds is due again


@dataclass
class RunResult:
    claimed: int = 0
    processed: int = 0  # completed (sent, adopted, unchanged or applied locally)
    errors: int = 0  # failed this run (retry scheduled, or failed for good)
    failed: int = 0  # of which failed for good
    released: int = 0  # handed back unprocessed (rate limit, time budget, record busy)
    requests: int = 0
    elapsed: float = 0.0
    lost_leases: int = 0
    log_errors: list[str] = field(default_factory=list)

    def summary_line(self, now: str) -> str:
        rate = self.requests / self.elapsed if self.elapsed > 0 else 0.0
        return (
            f"[{now}] Processados: {self.processed} | Erros: {self.errors} | "
            f"Tempo: {self.elapsed:.2f}s | Taxa: {rate:.2f} req/s"
        )


class SyncRun:
    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        cipher: CredentialCipher | None = None,
        rng: random.Random | None = None,
        on_item: Callable[[QueueItem, Outcome], None] | None = None,
        on_claim: Callable[[int], None] | None = None,
    ) -> None:
        self.engine, self.settings, self.cipher = engine, settings, cipher
        self._processor: Processor | None = None
        self.policy = RetryPolicy.from_settings(settings.sync)
        self.rng = rng or random.Random()
        self.owner = f"{uuid.uuid4()}"
        self.on_item = on_item or (lambda item, outcome: None)
        self.on_claim = on_claim or (lambda count: None)

    @property
    def processor(self) -> Processor:
        """Providers, HTTP and the cipher load only when there is work: an empty
        queue (what cron pays every minute) costs little more than the claim."""
        if self._processor is None:
            from crm_cli.credentials import CredentialCipher
            from crm_cli.integrations import Integracoes
            from crm_cli.processing import Processor

            cipher = self.cipher or CredentialCipher.from_environment(
                self.settings.credentials_key_env, self.settings.credentials_allow_fallback_key
            )
            self._processor = Processor(
                self.engine, self.settings, Integracoes(self.engine, cipher)
            )
        return self._processor

    def run(
        self, limit: int | None = None, id_loja: int | None = None, entidade: str | None = None
    ) -> RunResult:
        started = time.monotonic()
        budget = self.settings.sync.time_budget_seconds
        batch = min(limit or MAX_BATCH_SIZE, self.settings.sync.batch_size, MAX_BATCH_SIZE)
        result = RunResult()
        queue.recover_expired(self.engine, self.policy.max_attempts)
        items = queue.claim(
            self.engine,
            owner=self.owner,
            limit=batch,
            lease_seconds=self.settings.sync.lease_seconds,
            id_loja=id_loja,
            entidade=entidade,
        )
        result.claimed = len(items)
        self.on_claim(len(items))
        locks = queue.RecordLocks(self.engine)
        paused: dict[int, int] = {}  # store -> seconds its CRM account asked us to wait
        try:
            items = self._lock_records(locks, items, result)
            if items:
                self.processor.expect(items)
            for index, item in enumerate(items):
                remaining = budget - (time.monotonic() - started)
                if remaining <= 0:
                    result.released += self._release(items[index:])
                    break
                if item.id_loja in paused:  # not this item's fault: back, attempt intact
                    result.released += self._release([item], paused[item.id_loja])
                    continue
                self.processor.max_wait = remaining
                item_started = time.monotonic()
                outcome = self._process(item)
                elapsed_ms = round((time.monotonic() - item_started) * 1000)
                if outcome.status == "released" and outcome.retry_after is not None:
                    # The account is paused longer than this run can wait: its
                    # store's items go back; other stores' items carry on.
                    paused[item.id_loja] = max(1, round(outcome.retry_after))
                    result.released += self._release([item], paused[item.id_loja])
                    self.on_item(item, outcome)
                    continue
                self._finish(item, outcome, result, elapsed_ms)
                self.on_item(item, outcome)
        finally:
            locks.close()
        result.requests = self._processor.requests_sent if self._processor else 0
        result.elapsed = time.monotonic() - started
        return result

    def _lock_records(
        self, locks: queue.RecordLocks, items: list[QueueItem], result: RunResult
    ) -> list[QueueItem]:
        """The items whose record this run now holds; the others go back to the queue."""
        busy = locks.take(items)
        if not busy:
            return items
        from crm_cli.processing import Outcome

        result.released += self._release(busy, BUSY_RECORD_DELAY)
        for item in busy:
            self.on_item(item, Outcome("released", "another run is working on this record"))
        return [item for item in items if item not in busy]

    def _release(self, items: list[QueueItem], delay: int | None = None) -> int:
        """Hand items back unprocessed, attempt intact (and the create markers written
        ahead for them cleared: nothing was sent)."""
        if self._processor is not None:
            self._processor.forget(items)
        return queue.release(self.engine, items, self.owner, delay)

    def _process(self, item: QueueItem) -> Outcome:
        outcome = self.processor.process(item)
        for _ in range(RATE_LIMIT_RETRIES):
            if outcome.status != "released" or outcome.retry_after is None:
                break
            # The limiter waits for the account's pause when it fits the
            # run's budget (max_wait); otherwise it refuses again at once.
            outcome = self.processor.process(item)
        return outcome

    def _finish(
        self, item: QueueItem, outcome: Outcome, result: RunResult, elapsed_ms: int
    ) -> None:
        if outcome.status == "released":  # record busy elsewhere, store awaiting re-authorisation
            result.released += self._release([item], outcome.release_delay)
            return
        if outcome.status == "retry" and self.policy.exhausted(item.tentativas):
            outcome.status = "failed"
            outcome.message = f"{outcome.message} (failed after {item.tentativas} attempts)"
        _new_id, owned = self.commit(item, outcome, result, elapsed_ms)
        if not owned:
            result.lost_leases += 1
            print(
                f"crm-cli: warning: item #{item.id}: lease lost to another run; its result "
                "was not recorded on the item",
                file=sys.stderr,
            )
        if outcome.status == "completed":
            result.processed += 1
        else:
            result.errors += 1
            result.failed += outcome.status == "failed"

    def _set_state(
        self,
        conn: Connection,
        item: QueueItem,
        outcome: Outcome,
        elapsed_ms: int,
        new_id: int | None,
    ) -> bool:
        if outcome.status == "completed":
            return queue.complete(
                conn,
                item,
                self.owner,
                elapsed_ms,
                outcome.external_id,
                new_id if item.id_registro is None else None,
            )
        if outcome.status == "failed":
            return queue.fail(conn, item, self.owner, outcome.message)
        delay = self.policy.delay(item.tentativas, self.rng)
        return queue.retry_later(conn, item, self.owner, outcome.message, delay)

    def commit(
        self,
        item: QueueItem,
        outcome: Outcome,
        result: RunResult,
        elapsed_ms: int,
        queued: bool = True,
    ) -> tuple[int | None, bool]:
        """Local writes, the item's state and its log row, in one transaction.

        If the log row cannot be written, the transaction is done again without
        it: the outcome is kept, and the run reports the log error.
        """
        try:
            with self.engine.begin() as conn:
                new_id, owned = self._write_outcome(conn, item, outcome, elapsed_ms, queued)
                try:
                    self._write_log(conn, item, outcome, new_id)
                except sa.exc.SQLAlchemyError as exc:
                    raise _LogFailed(str(getattr(exc, "orig", exc)).splitlines()[0]) from exc
        except _LogFailed as failed:
            result.log_errors.append(f"item #{item.id}: {failed}")
            with self.engine.begin() as conn:
                new_id, owned = self._write_outcome(conn, item, outcome, elapsed_ms, queued)
        return new_id, owned

    def _write_outcome(
        self, conn: Connection, item: QueueItem, outcome: Outcome, elapsed_ms: int, queued: bool
    ) -> tuple[int | None, bool]:
        applies = outcome.apply is not None and (queued or outcome.status == "completed")
        new_id = outcome.apply(conn) if applies else None
        owned = self._set_state(conn, item, outcome, elapsed_ms, new_id) if queued else True
        return new_id, owned

    def _write_log(
        self, conn: Connection, item: QueueItem, outcome: Outcome, new_id: int | None
    ) -> None:
        write_log(
            conn,
            id_loja=item.id_loja,
            entidade=item.entidade,
            id_registro=item.id_registro or new_id,
            direcao=item.direcao,
            status=outcome.log_status,
            mensagem=f"item #{item.id}: {outcome.message}",
            enviados=outcome.sent,
            recebidos=outcome.received,
        )


class _LogFailed(Exception):
    """The log row could not be written (the outcome is written again without it)."""


def sync_one(
    engine: Engine,
    settings: Settings,
    *,
    id_loja: int,
    entidade: str,
    id_registro: int | None = None,
    external_id: str | None = None,
    direcao: str = ERP_TO_CRM,
    cipher: CredentialCipher | None = None,
) -> Outcome:
    """Sync one record now, without the queue ("sync now" buttons, operators)."""
    run = SyncRun(engine, settings, cipher)
    item = QueueItem(
        id=0,
        id_loja=id_loja,
        entidade=entidade,
        id_registro=id_registro,
        direcao=direcao,
        prioridade=10,
        tentativas=1,
        external_id=external_id,
    )
    outcome = run.processor.process(item)
    result = RunResult()
    new_id, _owned = run.commit(item, outcome, result, 0, queued=False)
    if new_id is not None and outcome.status == "completed":
        outcome.id_registro = new_id
    if result.log_errors:
        from crm_cli.errors import DatabaseError

        raise DatabaseError(f"the sync log could not be written: {result.log_errors[0]}")
    return outcome


def sincronizar_para_crm(
    engine: Engine, settings: Settings, id_loja: int, entidade: str, id_registro: int
) -> Outcome:
    """The original's ``sincronizarParaCrm``."""
    return sync_one(
        engine,
        settings,
        id_loja=id_loja,
        entidade=entidade,
        id_registro=id_registro,
        direcao=ERP_TO_CRM,
    )


def sincronizar_para_ecletech(
    engine: Engine,
    settings: Settings,
    id_loja: int,
    entidade: str,
    external_id: str | None = None,
    id_registro: int | None = None,
) -> Outcome:
    """The original's ``sincronizarParaEcletech``."""
    return sync_one(
        engine,
        settings,
        id_loja=id_loja,
        entidade=entidade,
        id_registro=id_registro,
        external_id=external_id,
        direcao=queue.CRM_TO_ERP,
    )
