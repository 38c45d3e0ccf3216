"""A cron run: claim up to 100 due items, take each through its CRM, commit, exit.

Safe when runs overlap (leases; per-record locks on MySQL), when a run dies
(expired leases are claimed again, creates are looked up before being
repeated), and under provider limits (the shared rate limiter; a 429 hands the
remaining items back without costing them an attempt).

Finished items are committed a few at a time (``OUTCOMES_PER_COMMIT``, and
never later than ``OUTCOME_MAX_AGE`` after the first of them), always before
the run reads the database again, and while a request waits for its
rate-limit slot (so a paced run commits each item in time it has to spare).
An outcome is only ever lost with the run that held it, and then only where
doing the item again is safe: an update is sent again, a create with a natural
key is found by it and adopted. A create that could not be found again (no
natural key) is committed at once.
"""

from __future__ import annotations

import contextlib
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine

from crm_cli.engine import queue
from crm_cli.engine.commit import Committer, Finished, Written
from crm_cli.engine.outcome import Outcome
from crm_cli.engine.queue import QueueItem
from crm_cli.engine.retry import RetryPolicy
from crm_cli.integrations import DISABLED
from crm_cli.settings import MAX_BATCH_SIZE, Settings
from crm_cli.states import Direction, OutcomeKind

if TYPE_CHECKING:
    from crm_cli.credentials import CredentialCipher
    from crm_cli.engine.processor import Processor

RATE_LIMIT_RETRIES = 2  # waits for a provider's pause within one run, per item
# One commit for several finished items: a durable commit costs as much as a
# request to a CRM without limits (see bench/p1_sync_overhead.py).
OUTCOMES_PER_COMMIT = 10
OUTCOME_MAX_AGE = 1.0  # seconds the first finished item may wait for its commit


@dataclass
class RunResult:
    """What a run did, and what it has to tell the operator (the CLI prints it)."""

    claimed: int = 0
    processed: int = 0  # completed (sent, adopted, unchanged or applied locally)
    errors: int = 0  # failed this run (retry scheduled, or failed for good)
    failed: int = 0  # of which failed for good
    released: int = 0  # handed back unprocessed (rate limit, time budget, record busy)
    requests: int = 0
    elapsed: float = 0.0
    # items whose result another run recorded: their lease ended before this run's commit
    lost_leases: list[int] = field(default_factory=list)
    # store -> why its items (or some entity's) wait
    parked_stores: dict[int, str] = field(default_factory=dict)
    # store -> seconds its CRM account asked every run to wait (a 429, a spent budget)
    paused_stores: dict[int, int] = field(default_factory=dict)
    log_errors: list[str] = field(default_factory=list)

    def summary_line(self, now: str) -> str:
        """The original's line, byte for byte (operators grep for it)."""
        rate = self.requests / self.elapsed if self.elapsed > 0 else 0.0
        return (
            f"[{now}] Processados: {self.processed} | Erros: {self.errors} | "
            f"Tempo: {self.elapsed:.2f}s | Taxa: {rate:.2f} req/s"
        )

    def details_line(self) -> str | None:
        """What the summary does not say: items handed back, failed for good, leases
        lost (None when there is nothing to add)."""
        parts = [
            f"{count} {what}"
            for count, what in (
                (self.failed, "failed for good"),
                (self.released, "handed back for a later run"),
                (len(self.lost_leases), "lost to another run (lease expired)"),
            )
            if count
        ]
        return "; ".join(parts) if parts else None


class SyncRun:
    def __init__(
        self,
        database: Engine,
        settings: Settings,
        cipher: CredentialCipher | None = None,
        rng: random.Random | None = None,
        on_item: Callable[[QueueItem, Outcome], None] | None = None,
        on_claim: Callable[[int], None] | None = None,
    ) -> None:
        self.database, self.settings, self.cipher = database, settings, cipher
        self._processor: Processor | None = None
        self.policy = RetryPolicy.from_settings(settings.sync)
        self.rng = rng or random.Random()
        self.owner = f"{uuid.uuid4()}"
        self.on_item = on_item or (lambda item, outcome: None)
        self.on_claim = on_claim or (lambda count: None)
        self._finished: list[Finished] = []
        self._deadline = 0.0  # monotonic time the run's budget ends
        self._paused: dict[int, int] = {}  # store -> seconds its CRM account asked us to wait
        # (store, entity or None: all of them) -> why its items wait
        self._parked: dict[tuple[int, str | None], str] = {}
        self.committer = Committer(database, self.owner, self.policy, self.rng)

    @property
    def processor(self) -> Processor:
        """Providers, HTTP and the cipher load only when there is work: an empty
        queue (what cron pays every minute) costs little more than the claim."""
        if self._processor is None:
            from crm_cli.credentials import CredentialCipher
            from crm_cli.engine.processor import Processor
            from crm_cli.integrations import Integracoes

            cipher = self.cipher or CredentialCipher.from_settings(self.settings)
            self._processor = Processor(
                self.database, self.settings, Integracoes(self.database, cipher)
            )
        return self._processor

    def run(
        self, limit: int | None = None, id_loja: int | None = None, entidade: str | None = None
    ) -> RunResult:
        started = time.monotonic()
        batch = min(limit or MAX_BATCH_SIZE, self.settings.sync.batch_size, MAX_BATCH_SIZE)
        result = RunResult()
        queue.recover_expired(self.database, self.policy.max_attempts)
        self._settle_parks()
        self._deadline = started + self.settings.sync.time_budget_seconds
        # Items whose last run died among others go first, one claim each: if
        # one kills this run too, it did so alone, and only it is blamed.
        while result.claimed < batch and time.monotonic() < self._deadline:
            alone = self._claim(1, id_loja, entidade, alone=True)
            if not alone:
                break
            self._work(alone, result)
        rest = batch - result.claimed
        if rest > 0 and time.monotonic() < self._deadline:
            self._work(self._claim(rest, id_loja, entidade), result)
        result.requests = self._processor.requests_sent if self._processor else 0
        result.elapsed = time.monotonic() - started
        return result

    def _settle_parks(self) -> None:
        """Parks in force hold their store's new items too; a store the PHP screen
        enabled again (``ativo`` 1, without 'config enable') is released at once."""
        in_force = queue.parks(self.database)
        if not in_force:
            return

        active = {s.id_loja for s in self.processor.integracoes.listar() if s.ativo}
        enabled = {p.id_loja for p in in_force if p.id_loja in active and DISABLED in p.reason}
        for id_loja in enabled:
            queue.unpark_store(self.database, id_loja)
        queue.spread_parks(self.database, [p for p in in_force if p.id_loja not in enabled])

    def _claim(
        self, limit: int, id_loja: int | None, entidade: str | None, alone: bool = False
    ) -> list[QueueItem]:
        return queue.claim(
            self.database,
            owner=self.owner,
            limit=limit,
            lease_seconds=self.settings.sync.lease_seconds,
            id_loja=id_loja,
            entidade=entidade,
            alone=alone,
        )

    def _work(self, items: list[QueueItem], result: RunResult) -> None:
        """Take claimed items through their CRMs until the run's time is up."""
        result.claimed += len(items)
        self.on_claim(result.claimed)
        locks = queue.RecordLocks(self.database)
        delays = self.settings.sync
        paused = self._paused  # store -> seconds its CRM account asked us to wait
        parked = self._parked  # (store, entity or None) -> why its items wait
        index = 0
        try:
            items = self._lock_records(locks, items, result)
            if items:
                self.processor.expect(items)
                # a request waiting for its rate-limit slot commits what is finished
                self.processor.on_idle = lambda: self._commit_finished(result)
            for index, item in enumerate(items):
                remaining = self._deadline - time.monotonic()
                if remaining <= 0:
                    result.released += self._release(items[index:])
                    break
                if item.id_loja in paused:  # not this item's fault: back, attempt intact
                    result.released += self._release([item], paused[item.id_loja])
                    continue
                why = parked.get((item.id_loja, None)) or parked.get((item.id_loja, item.entidade))
                if why is not None:
                    result.released += self._release([item], delays.park_store_seconds, why)
                    continue
                self.processor.max_wait = remaining
                item_started = time.monotonic()
                outcome = self._process(item, result)
                elapsed_ms = round((time.monotonic() - item_started) * 1000)
                if outcome.unanswered and self.processor.crm_down(item.id_loja):
                    # Unanswered while its CRM answered nothing else: an outage, not
                    # this item's fault (a probe of an open circuit among them). Its
                    # store's items go back, attempts intact: an outage never ends
                    # in failed.
                    outcome = replace(
                        outcome,
                        kind=OutcomeKind.RELEASED,
                        retry_after=delays.unanswered_store_seconds,
                    )
                if outcome.kind is OutcomeKind.RELEASED and outcome.retry_after is not None:
                    # The account is paused longer than this run can wait: its
                    # store's items go back; other stores' items carry on.
                    paused[item.id_loja] = max(1, round(outcome.retry_after))
                    if not outcome.unanswered:  # the CRM asked for it (run's end tells)
                        result.paused_stores[item.id_loja] = paused[item.id_loja]
                    result.released += self._release([item], paused[item.id_loja])
                    self.on_item(item, outcome)
                    continue
                if outcome.kind is OutcomeKind.PARKED:
                    # The store cannot be used until an operator acts: all its
                    # items wait, attempts intact; other stores carry on.
                    parked[(item.id_loja, outcome.parked_entity)] = outcome.message
                    self._park(item, outcome, result)
                    continue
                if outcome.unanswered:
                    # Its CRM did not answer: one more try of the store in this run
                    # would cost the others the same wait; later runs try it again
                    # (and the account's circuit breaker counts it).
                    paused[item.id_loja] = delays.unanswered_store_seconds
                self._finish(item, outcome, result, elapsed_ms)
            self._commit_finished(result)
        except BaseException:
            # What was sent is recorded if the database still answers; if it
            # does not, the next run redoes those items safely (see above).
            # What was not done yet goes back untouched (a fatal error is no
            # item's fault: a missing secret, a database that refuses).
            with contextlib.suppress(Exception):
                self._commit_finished(result)
            with contextlib.suppress(Exception):
                self._release(items[index:])
            raise
        finally:
            locks.close()

    def _lock_records(
        self, locks: queue.RecordLocks, items: list[QueueItem], result: RunResult
    ) -> list[QueueItem]:
        """The items whose record this run now holds; the others go back to the queue."""
        busy = locks.take(items)
        if not busy:
            return items
        result.released += self._release(busy, self.settings.sync.release_seconds)
        for item in busy:
            self.on_item(
                item, Outcome(OutcomeKind.RELEASED, "another run is working on this record")
            )
        return [item for item in items if item not in busy]

    def _release(
        self, items: list[QueueItem], delay: int | None = None, reason: str | None = None
    ) -> int:
        """Hand items back unprocessed, attempt intact (and the create markers written
        ahead for them cleared: nothing was sent)."""
        if self._processor is not None:
            self._processor.forget(items)
        return queue.release(self.database, items, self.owner, delay, reason)

    def _park(self, item: QueueItem, outcome: Outcome, result: RunResult) -> None:
        """The store waits: this item goes back, and so does every due item of the store
        (of the outcome's entity only, when it names one)."""
        seconds = self.settings.sync.park_store_seconds
        result.released += self._release([item], seconds, outcome.message)
        queue.park_store(
            self.database, item.id_loja, seconds, outcome.message, outcome.parked_entity
        )
        result.parked_stores[item.id_loja] = outcome.message
        self.on_item(item, outcome)

    def _process(self, item: QueueItem, result: RunResult) -> Outcome:
        outcome = self._process_once(item, result)
        for _ in range(RATE_LIMIT_RETRIES):
            if outcome.kind is not OutcomeKind.RELEASED or outcome.retry_after is None:
                break
            # The limiter waits for the account's pause when it fits the
            # run's budget (max_wait); otherwise it refuses again at once.
            outcome = self._process_once(item, result)
        return outcome

    def _process_once(self, item: QueueItem, result: RunResult) -> Outcome:
        if self._finished and self.processor.reads_database(item):
            self._commit_finished(result)  # what it reads includes what this run wrote
        return self.processor.process(item)

    def _finish(
        self, item: QueueItem, outcome: Outcome, result: RunResult, elapsed_ms: int
    ) -> None:
        if outcome.kind is OutcomeKind.RELEASED:  # its account paused for an unsaid time
            result.released += self._release([item], self.settings.sync.release_seconds)
            self.on_item(item, outcome)
            return
        if outcome.kind is OutcomeKind.RETRY and self.policy.exhausted(item.tentativas):
            outcome = replace(
                outcome,
                kind=OutcomeKind.FAILED,
                message=f"{outcome.message} (failed after {item.tentativas} attempts)",
            )
        self._finished.append(Finished(item, outcome, elapsed_ms))
        if (
            outcome.commit_at_once
            or len(self._finished) >= OUTCOMES_PER_COMMIT
            or time.monotonic() - self._finished[0].at >= OUTCOME_MAX_AGE
        ):
            self._commit_finished(result)

    def _commit_finished(self, result: RunResult) -> None:
        finished = self._finished
        if not finished:
            return
        # if it fails: another try; the outcomes it returns are what was recorded
        written = self.committer.commit(finished, result.log_errors)
        self._finished = []
        for each in written:
            self._count(each, result)
            self.on_item(each.item, each.outcome)

    @staticmethod
    def _count(written: Written, result: RunResult) -> None:
        if not written.owned:
            result.lost_leases.append(written.item.id)
        if written.outcome.kind is OutcomeKind.COMPLETED:
            result.processed += 1
        else:
            result.errors += 1
            result.failed += written.outcome.kind is OutcomeKind.FAILED


def sync_one(
    database: Engine,
    settings: Settings,
    *,
    id_loja: int,
    entidade: str,
    id_registro: int | None = None,
    external_id: str | None = None,
    direcao: Direction = Direction.ERP_TO_CRM,
    cipher: CredentialCipher | None = None,
) -> Outcome:
    """Sync one record now, without the queue ("sync now" buttons, operators)."""
    run = SyncRun(database, settings, cipher)
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
    log_errors: list[str] = []
    [written] = run.committer.commit([Finished(item, outcome)], log_errors, queued=False)
    if log_errors:
        from crm_cli.errors import DatabaseError

        raise DatabaseError(f"the sync log could not be written: {log_errors[0]}")
    outcome = written.outcome
    if written.new_id is not None and outcome.kind is OutcomeKind.COMPLETED:
        outcome = replace(outcome, id_registro=written.new_id)
    return outcome
