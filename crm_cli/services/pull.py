"""``pull``: bring what changed in each store's CRM into the ERP, a batch per cron run.

For every active store and entity, the CRM is asked only for what changed since
the store's watermark (``crm_cli.engine.watermarks``), with the provider's own
filter (``BaseClient.changes``); a CRM without one is scanned page by page. A
record read before and unchanged (its hash) costs no write; the others go
through the same CRM→ERP path as queue items (``Processor.absorb``: conflict
strategy, line items, the store's links), and what it writes is settled, so it
never comes back as a change to send (no ping-pong).

A run applies at most ``limit`` records (``sync.batch_size``), shared fairly by
the stores and entities with changes, within ``sync.time_budget_seconds``;
requests go through the account's shared limiter, the same quota as ``sync``.
Where a read stops, the next run continues. One store's trouble (refused
credentials, a paused account, a CRM that does not answer) stops only its own
read; a record that cannot be written now is queued for the sync runs to retry.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine

from crm_cli.engine import deletions, syncstate, watermarks
from crm_cli.engine.failures import Verdict, decide
from crm_cli.engine.processor import Processor
from crm_cli.engine.queue import QueueItem, enqueue
from crm_cli.engine.synclog import write_log
from crm_cli.engine.watermarks import Position
from crm_cli.errors import NotFoundError, RecordNotFound, UnexpectedAnswer
from crm_cli.integrations import Integracoes
from crm_cli.providers.client import BaseClient
from crm_cli.providers.registry import get_provider
from crm_cli.settings import Settings
from crm_cli.states import Direction, LogStatus

PRIORITY = 1  # a record the pull could not write now, queued for the sync runs


@dataclass
class PullResult:
    read: int = 0  # records the CRM listed
    applied: int = 0  # taken through the CRM→ERP path (written, or held already)
    same: int = 0  # of those, the ERP held their values already: nothing written there
    inserted: int = 0  # of those, new ERP rows
    unchanged: int = 0  # read again as read before: nothing done
    errors: int = 0
    queued: int = 0  # could not be written now: queued for the sync runs
    requests: int = 0
    finished: list[str] = field(default_factory=list)  # "loja N entity": read to the end
    pending: list[str] = field(default_factory=list)  # more to read: the next run goes on
    busy: list[str] = field(default_factory=list)  # another run is reading it
    # scanned (no change filter) less than sync.pull_scan_minutes ago
    resting: list[str] = field(default_factory=list)
    stopped: list[str] = field(default_factory=list)  # "loja N entity: why"


@dataclass(frozen=True)
class _Pair:
    id_loja: int
    entidade: str

    def __str__(self) -> str:
        return f"loja {self.id_loja} {self.entidade}"


def pull_targets(
    settings: Settings,
    integracoes: Integracoes,
    lojas: list[int] | None = None,
    entidades: list[str] | None = None,
) -> list[_Pair]:
    """Every active store with each entity its provider syncs and the config maps
    (or those asked for, refused with the reason when one cannot be pulled)."""
    stores = [s for s in integracoes.listar() if s.ativo]
    if lojas:
        missing = sorted(set(lojas) - {s.id_loja for s in stores})
        if missing:
            raise NotFoundError(
                f"store {missing[0]} has no active CRM integration (see 'crm-cli config list')"
            )
        stores = [s for s in stores if s.id_loja in lojas]
    for entidade in entidades or []:
        settings.entity(entidade)  # an unknown entity is refused, naming the known ones
    pairs = []
    for store in stores:
        info = get_provider(store.provider)
        wanted = entidades or [e for e in info.entities if e in settings.entities]
        pairs += [_Pair(store.id_loja, e) for e in wanted if e in info.entities]
    return pairs


def run_pull(
    database: Engine,
    settings: Settings,
    integracoes: Integracoes,
    lojas: list[int] | None = None,
    entidades: list[str] | None = None,
    limit: int | None = None,
    since: dt.datetime | None = None,
    on_record: Callable[[int], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> PullResult:
    """One run: at most ``limit`` records applied, shared by the stores and entities.
    ``since``: read again from then (default: since each store's watermark; a store
    and entity never pulled before start now)."""
    pairs = pull_targets(settings, integracoes, lojas, entidades)
    limit = limit or settings.sync.batch_size
    processor = Processor(database, settings, integracoes)
    deadline = clock() + settings.sync.time_budget_seconds
    result = PullResult()
    reading = _Reading(database, settings, processor, result, since, on_record, clock, deadline)
    # Each pair's fair share first, then what is left to those with more to read.
    share = max(1, math.ceil(limit / max(1, len(pairs))))
    more: list[_Pair] = []
    for pair in pairs:
        budget = min(share, limit - result.applied)
        if budget <= 0 or clock() >= deadline or reading.pull(pair, budget) is Read.MORE:
            more.append(pair)
    for pair in list(more):
        budget = limit - result.applied
        if budget > 0 and clock() < deadline and reading.pull(pair, budget) is not Read.MORE:
            more.remove(pair)
    result.pending = [str(pair) for pair in more]
    result.requests = processor.requests_sent
    return result


class Read(enum.Enum):
    """How far one store's read of one entity went in a run."""

    DONE = "done"  # to the end: the watermark moved
    MORE = "more"  # stopped by the run's budget: the next run goes on
    NOT_READ = "not read"  # busy in another run, or stopped by the store's trouble


class _Reading:
    """The reads of one run."""

    def __init__(
        self,
        database: Engine,
        settings: Settings,
        processor: Processor,
        result: PullResult,
        since: dt.datetime | None,
        on_record: Callable[[int], None] | None,
        clock: Callable[[], float],
        deadline: float,
    ) -> None:
        self.database, self.settings, self.processor = database, settings, processor
        self.result, self.since, self.on_record = result, since, on_record
        self.clock, self.deadline = clock, deadline
        self.restarted: set[_Pair] = set()  # ``since`` applies once per pair and run
        self.unusable: set[int] = set()  # stores whose client could not be opened

    def pull(self, pair: _Pair, budget: int) -> Read:
        """Read ``pair``'s changes, applying at most ``budget``."""
        if pair.id_loja in self.unusable:  # said once, for its first entity
            return Read.NOT_READ
        try:
            client = self.processor.client(pair.id_loja)
        except Exception as exc:
            self.unusable.add(pair.id_loja)
            return self._stopped(pair, exc)
        lease = self.settings.sync.lease_seconds
        restart = self.since if pair not in self.restarted else None
        self.restarted.add(pair)
        scan_minutes = self.settings.sync.pull_scan_minutes
        if (
            restart is None
            and not client.filters_changes(pair.entidade)
            and watermarks.resting(self.database, pair.id_loja, pair.entidade, scan_minutes)
        ):
            self.result.resting.append(str(pair))
            return Read.NOT_READ
        position = watermarks.lease(self.database, pair.id_loja, pair.entidade, lease, restart)
        if position is None:
            self.result.busy.append(str(pair))
            return Read.NOT_READ
        applied = errors = 0
        page, skip = position.page, position.skip
        try:
            since = _since(client, position)
            seen_pages: set[str] = set()
            while True:
                if applied >= budget or self.clock() >= self.deadline:
                    watermarks.save(self.database, position, page, skip, applied, errors)
                    return Read.MORE
                self.processor.max_wait = max(0.0, self.deadline - self.clock())
                listing = client.changes(pair.entidade, since, page)
                _check_progress(client, page, listing.next, seen_pages)
                done, stopped_at = self._page(pair, client, listing.records, skip, budget - applied)
                applied += done.applied
                errors += done.errors
                if stopped_at is not None:  # the budget ran out within the page
                    watermarks.save(self.database, position, page, stopped_at, applied, errors)
                    return Read.MORE
                if listing.next is None:
                    watermarks.finish(self.database, position, applied, errors)
                    self.result.finished.append(str(pair))
                    return Read.DONE
                page, skip = listing.next, 0
        except KeyboardInterrupt:  # Ctrl-C, SIGTERM: where it stood is kept, the lease freed
            watermarks.save(self.database, position, page, skip, applied, errors)
            raise
        except Exception as exc:
            if decide(exc).verdict is Verdict.FATAL:
                watermarks.release(self.database, position)
                raise
            # the read itself failed (the store, its account, its CRM): it stops here,
            # where it stands; the next run continues; the other stores go on
            watermarks.save(self.database, position, page, skip, applied, errors)
            return self._stopped(pair, exc)

    def _stopped(self, pair: _Pair, exc: Exception) -> Read:
        """The store's read could not go on: said on stderr and in the log (FATAL:
        raised, nothing else would work either)."""
        decision = decide(exc)
        if decision.verdict is Verdict.FATAL:
            raise exc
        self.result.stopped.append(f"{pair}: {decision.message}")
        _log(self.database, pair, 0, LogStatus.ALERTA, f"stopped: {decision.message}")
        return Read.NOT_READ

    def _page(
        self, pair: _Pair, client: BaseClient, records: list[dict], skip: int, budget: int
    ) -> tuple[PullResult, int | None]:
        """Apply a page's changed records from ``skip`` on. Returns the counts and, when
        the budget ran out within the page, the position to continue from."""
        done = PullResult()
        ids = [client.external_id(r) for r in records]
        with self.database.connect() as conn:
            known = syncstate.received_hashes(conn, pair.id_loja, pair.entidade, ids)
        whole = client.lists_whole(pair.entidade)
        changed: list[tuple[int, dict, str]] = []  # position, record, its hash
        stop = None
        for position in range(skip, len(records)):
            if len(changed) >= budget or self.clock() >= self.deadline:
                stop = position
                break
            self.result.read += 1
            try:  # a list item that is not the whole record is read whole first
                record = (
                    records[position]
                    if whole
                    else client.complete(pair.entidade, records[position])
                )
            except RecordNotFound as exc:  # listed, then gone on its own path: deleted there
                self._one(pair, records[position], ids[position], None, done, gone=exc.message)
                continue
            except Exception as exc:
                self._failed(pair, ids[position], records[position], exc, done)
                continue
            seen = syncstate.record_hash(record)
            if known.get(ids[position]) == {seen}:  # as read before: nothing to do
                self.result.unchanged += 1
                continue
            changed.append((position, record, seen))
        if whole and changed:  # what a list leaves out (a deal's products), for them all
            completed = client.complete_many(pair.entidade, [r for _p, r, _s in changed])
            changed = [(p, r, s) for (p, _r, s), r in zip(changed, completed, strict=True)]
        for position, record, seen in changed:
            self._one(pair, record, ids[position], seen, done)
        return done, stop

    def _one(
        self,
        pair: _Pair,
        record: dict,
        external_id: str,
        seen: str | None,
        done: PullResult,
        gone: str | None = None,
    ) -> None:
        """A changed record, through the CRM→ERP path; ``gone``: why the CRM says it
        is deleted (its row is marked as entities.<e>.on_delete says). Its failure
        is the record's (``_failed``)."""
        try:
            with self.database.connect() as conn:
                row = self.processor.find_row(conn, pair.id_loja, pair.entidade, external_id)
            table = self.processor.table(pair.entidade)
            item = QueueItem(
                id=0,
                id_loja=pair.id_loja,
                entidade=pair.entidade,
                id_registro=row[table.mapping.primary_key] if row else None,
                direcao=Direction.CRM_TO_ERP,
                prioridade=0,
                tentativas=1,
                external_id=external_id,
            )
            if gone is not None:
                if row is None:  # deleted before it ever reached the ERP: nothing to mark
                    return
                outcome = deletions.mark_in_erp(item, table, row, external_id, gone)
            else:
                outcome = self.processor.absorb(item, record, row, external_id, seen)
            with self.database.begin() as conn:
                record_id = outcome.apply(conn) if outcome.apply else None
                write_log(
                    conn,
                    id_loja=pair.id_loja,
                    entidade=pair.entidade,
                    id_registro=record_id or item.id_registro or 0,
                    direcao=Direction.CRM_TO_ERP,
                    status=outcome.log_status,
                    mensagem=f"pull: {outcome.message}",
                    recebidos=record,
                )
            done.applied += 1
            self.result.applied += 1
            self.result.same += int(outcome.same_locally)
            self.result.inserted += int(row is None and record_id is not None)
            if self.on_record:
                self.on_record(self.result.applied)
        except Exception as exc:  # the record's problem (or, raised by _failed, its store's)
            self._failed(pair, external_id, record, exc, done)

    def _failed(
        self, pair: _Pair, external_id: str, record: dict, exc: Exception, done: PullResult
    ) -> None:
        """A record that could not be applied: counted and logged; one a retry may fix
        is queued, so the sync runs fetch it again with their backoff (nothing lost).
        An error that is not the record's stops the store's read (raised)."""
        decision = decide(exc)
        if decision.verdict is not Verdict.RETRY and decision.verdict is not Verdict.FAIL:
            raise exc
        done.errors += 1
        self.result.errors += 1
        if decision.verdict is Verdict.RETRY:
            enqueue(
                self.database,
                id_loja=pair.id_loja,
                entidade=pair.entidade,
                external_id=external_id,
                direcao=Direction.CRM_TO_ERP,
                prioridade=PRIORITY,
            )
            self.result.queued += 1
        _log(self.database, pair, 0, LogStatus.ERRO, decision.message, record)


def _since(client: BaseClient, position: Position) -> dt.datetime:
    """The instant the read asks for changes since: the watermark less the overlap,
    no earlier than the CRM lists (Bling: a year)."""
    since = position.since or position.read_started_at
    oldest = client.max_change_age
    if oldest is not None:
        since = max(since, position.read_started_at - oldest)
    return since


def _check_progress(client: BaseClient, page: Any, following: Any, seen: set[str]) -> None:
    """A CRM that hands out a page already read would make the read loop forever."""
    seen.add(repr(page))
    if following is not None and repr(following) in seen:
        raise UnexpectedAnswer(
            f"{client.info.title}: the page after {page or 1} is {following}, already read: "
            "its pagination loops; this read stopped (it continues once the CRM pages right)"
        )


def _log(
    database: Engine,
    pair: _Pair,
    id_registro: int,
    status: LogStatus,
    message: str,
    record: dict | None = None,
) -> None:
    write_log(
        database,
        id_loja=pair.id_loja,
        entidade=pair.entidade,
        id_registro=id_registro,
        direcao=Direction.CRM_TO_ERP,
        status=status,
        mensagem=f"pull: {message}",
        recebidos=record,
    )
