"""ERP → CRM: an item's record, read ahead, sent to its store's CRM as a create or update.

ERP→CRM items are read a few at a time (``READ_AHEAD``): one transaction reads
their records and sync states and commits, before any request goes out, the
create markers of the records that are new to the CRM and have a natural key.
A marker says "a create may have been sent": should the run die, the next
attempt looks the record up by that key before creating it. A marker written
for a create that was never sent costs only that lookup, so markers are
written ahead only where a lookup is possible; a record without a natural key
is marked on its own, right before its create.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any, Protocol

from sqlalchemy.engine import Connection, Engine

from crm_cli.engine import syncstate
from crm_cli.engine.entities import EntityTable
from crm_cli.engine.failures import nothing_created
from crm_cli.engine.line_items import LINE_ITEMS, LineItems
from crm_cli.engine.outcome import Outcome, no_local_write
from crm_cli.engine.queue import QueueItem, enqueue
from crm_cli.errors import CannotSucceed, CrmError, RecordNotFound, WaitingFor
from crm_cli.providers.client import BaseClient
from crm_cli.states import Direction, OutcomeKind

# ERP→CRM items read in one transaction. Their data is as old as the time it
# takes to send them all (a few seconds under a 3 requests/s limit); a change
# made meanwhile is queued again and goes in a later run.
READ_AHEAD = 10


class Resources(Protocol):
    """Where an item's client and table come from (``crm_cli.engine.processor``)."""

    def client(self, id_loja: int) -> BaseClient: ...

    def table(self, entidade: str) -> EntityTable: ...

    def line_items(self, entidade: str) -> LineItems | None: ...


@dataclass(frozen=True)
class _Target:
    """Where an ERP→CRM item goes: its table, its store's client, its entity's handler."""

    table: EntityTable
    client: BaseClient
    handler: Any
    lines: LineItems | None  # the table of its line items, when it has one


@dataclass(frozen=True)
class Ready:
    """An ERP→CRM item read ahead: what to send, and whether its create marker is committed."""

    target: _Target
    row: dict
    state: syncstate.SyncState | None
    payload: dict
    digest: str
    external_id: str | None
    natural_key: bool  # the CRM can be searched for the record (a lost create is found again)
    marked: bool


_Prepared = Ready | Outcome | Exception  # an item's preparation: ready, already decided, or failed


class ToCrm:
    """The ERP→CRM path of a run's items."""

    def __init__(self, database: Engine, resources: Resources) -> None:
        self.database = database
        self.resources = resources  # each item's client, table and line items
        self._upcoming: list[QueueItem] = []  # the run's items, in the order it takes them
        self._prepared: dict[int, _Prepared] = {}  # by item id: read ahead, not yet sent

    def is_prepared(self, item: QueueItem) -> bool:
        """True when ``item`` was read ahead: sending it reads nothing more.

        An item found waiting for other records is read again when its turn
        comes: those may be items of this run, sent in the meantime.
        """
        return item.id in self._prepared and not isinstance(self._prepared[item.id], WaitingFor)

    def expect(self, items: list[QueueItem]) -> None:
        """The run's items, in the order it will take them: ERP→CRM ones are read ahead."""
        self._upcoming = list(items)

    def forget(self, items: Iterable[QueueItem]) -> None:
        """Items going back to the queue unsent: clear the create markers written for them."""
        keys = [_record(item) for item in items if _marked(self._prepared.pop(item.id, None))]
        if keys:
            with self.database.begin() as conn:
                syncstate.clear_creates(conn, keys)

    def process(self, item: QueueItem) -> Outcome:
        if not self.is_prepared(item):
            self._prepared.pop(item.id, None)
            self._read_ahead(item)
        prepared = self._prepared.pop(item.id)
        if isinstance(prepared, WaitingFor):
            self._queue_what_it_waits_for(item, prepared)
        if isinstance(prepared, Exception):
            raise prepared
        if isinstance(prepared, Outcome):
            return prepared
        if prepared.external_id:
            return self._update(item, prepared)
        return self._create(item, prepared)

    def _read_ahead(self, item: QueueItem) -> None:
        """Prepare ``item`` and the ERP→CRM items that follow it, reading in one transaction."""
        batch = self._following(item)
        targets = self._targets(batch)
        with self.database.begin() as conn:
            self._prepared.update(self._prepare_all(conn, batch, targets))
            marked = [_record(each) for each in batch if _marked(self._prepared[each.id])]
            syncstate.mark_creates_started(conn, marked)

    def _queue_what_it_waits_for(self, item: QueueItem, waiting: WaitingFor) -> None:
        """The records an item waits for (a sale's products) are queued ahead of it."""
        for entidade, id_registro in waiting.needs:
            enqueue(
                self.database,
                id_loja=item.id_loja,
                entidade=entidade,
                id_registro=id_registro,
                prioridade=max(item.prioridade, 5) + 1,
            )

    def preview(self, items: list[QueueItem]) -> dict[int, _Prepared]:
        """What sending ``items`` would do, by item id, writing nothing (``sync --dry-run``)."""
        targets = self._targets(items)
        with self.database.connect() as conn:
            return self._prepare_all(conn, items, targets)

    def _targets(self, batch: list[QueueItem]) -> dict[int, _Target | Exception]:
        # Clients and tables first, outside the transaction: opening a client
        # may write (a token refresh), and SQLite has one writer at a time.
        targets: dict[int, _Target | Exception] = {}
        for each in batch:
            try:
                targets[each.id] = self._target(each)
            except Exception as exc:  # this item's (or its store's) problem: see failures
                targets[each.id] = exc
        return targets

    def _prepare_all(
        self, conn: Connection, batch: list[QueueItem], targets: dict[int, _Target | Exception]
    ) -> dict[int, _Prepared]:
        prepared: dict[int, _Prepared] = {}
        groups: dict[tuple[int, str], list[QueueItem]] = {}
        for each in batch:
            target = targets[each.id]
            if isinstance(target, Exception):
                prepared[each.id] = target
            else:
                groups.setdefault((each.id_loja, each.entidade), []).append(each)
        for (id_loja, entidade), group in groups.items():
            first = _target_of(targets, group[0])
            table, lines = first.table, first.lines
            ids = [each.id_registro for each in group]
            found = syncstate.load_with_records(conn, table, id_loja, entidade, ids)
            if lines is not None:
                _with_line_items(conn, lines, found)
            for each in group:
                row, state = found.get(each.id_registro, (None, None))
                ready = _prepare(each, _target_of(targets, each), row, state)
                if lines is not None and isinstance(ready, Ready):
                    ready = _unless_waiting(lines, each, ready)
                prepared[each.id] = ready
        return prepared

    def _following(self, item: QueueItem) -> list[QueueItem]:
        """``item``, then the ERP→CRM items right after it in the run not yet prepared.

        It stops at a CRM→ERP item: that one may write a record read here.
        """
        ids = [each.id for each in self._upcoming]
        if item.id not in ids:
            return [item]
        batch = [item]
        for each in self._upcoming[ids.index(item.id) + 1 :]:
            if each.direcao != Direction.ERP_TO_CRM or len(batch) == READ_AHEAD:
                break
            if each.id not in self._prepared:
                batch.append(each)
        return batch

    def _target(self, item: QueueItem) -> _Target:
        if item.id_registro is None:
            raise CannotSucceed("an ERP→CRM item needs id_registro (the local record's id)")
        table = self.resources.table(item.entidade)
        client = self.resources.client(item.id_loja)
        handler = client.entity(item.entidade).load_handler()
        return _Target(table, client, handler, self.resources.line_items(item.entidade))

    def _update(self, item: QueueItem, ready: Ready) -> Outcome:
        table, external_id = ready.target.table, str(ready.external_id)
        try:
            received = ready.target.client.atualizar(item.entidade, external_id, ready.payload)
        except RecordNotFound:
            raise CannotSucceed(
                f"the CRM has no {item.entidade} {external_id} any more (deleted there?); "
                f"clear {table.mapping.table}.{table.mapping.external_id} to create it again"
            ) from None
        message = f"updated in the CRM ({item.entidade} {external_id})"
        return self._sent(
            item, table, external_id, ready.digest, ready.payload, received, message, link=False
        )

    def _create(self, item: QueueItem, ready: Ready) -> Outcome:
        table, client = ready.target.table, ready.target.client
        if not ready.marked:
            if _maybe_created(item, ready.state):
                found = self._look_up(item, ready)
                if found is not None:
                    return found
            with self.database.begin() as conn:
                syncstate.mark_creates_started(conn, [_record(item)])
        try:
            received = client.criar(item.entidade, ready.payload)
        except CrmError as exc:
            if nothing_created(exc):
                with self.database.begin() as conn:
                    syncstate.clear_creates(conn, [_record(item)])
            raise
        external_id = client.external_id(received)
        digest = syncstate.payload_hash(ready.payload, external_id)
        message = f"created in the CRM ({item.entidade} {external_id})"
        outcome = self._sent(item, table, external_id, digest, ready.payload, received, message)
        return replace(outcome, commit_at_once=not ready.natural_key)

    def _look_up(self, item: QueueItem, ready: Ready) -> Outcome | None:
        """A previous attempt may have created the record before dying: find it by its
        natural key and adopt it rather than create a second one.

        The adopted record is sent the payload: the attempt may have died halfway
        (a deal created, its products not yet attached), or the record found may
        be someone else's older copy; the sync state then tells the truth.
        """
        client = ready.target.client
        if not ready.natural_key:
            if ready.state is not None and ready.state.create_started_at:
                raise CannotSucceed(
                    "a previous attempt may have created this record in the CRM (its answer "
                    "never arrived) and it has no natural key to look it up by: check the "
                    "CRM, then 'crm-cli queue retry'"
                )
            return None
        found = client.procurar(item.entidade, ready.row)
        if found is None:
            return None
        external_id = client.external_id(found)
        received = client.atualizar(item.entidade, external_id, ready.payload)
        digest = syncstate.payload_hash(ready.payload, external_id)
        message = (
            f"adopted the CRM's existing {item.entidade} {external_id} "
            "(found by its natural key) instead of creating it again, and updated it"
        )
        table = ready.target.table
        return self._sent(item, table, external_id, digest, ready.payload, received, message)

    def _sent(
        self,
        item: QueueItem,
        table: EntityTable,
        external_id: str,
        digest: str,
        payload: Any,
        received: Any,
        message: str,
        link: bool = True,
    ) -> Outcome:
        """A completed send; ``link``: write the CRM's id into the record (a record that
        already carries it is left alone, one statement fewer per update)."""

        def write_back(conn: Connection) -> None:
            if link:
                table.set_external_id(conn, item.id_registro, external_id)
            syncstate.record_success(
                conn, item.id_loja, item.entidade, item.id_registro, external_id, digest
            )

        return Outcome(
            OutcomeKind.COMPLETED,
            message,
            sent=payload,
            received=received,
            external_id=external_id,
            apply=write_back,
        )


def _prepare(
    item: QueueItem, target: _Target, row: dict | None, state: syncstate.SyncState | None
) -> _Prepared:
    """What to do with an ERP→CRM item, from its record and its sync state (no I/O)."""
    table, handler = target.table, target.handler
    if row is None:
        return CannotSucceed(
            f"record {item.id_registro} does not exist in table {table.mapping.table}"
        )
    if table.is_deleted(row):
        return Outcome(
            OutcomeKind.COMPLETED, "the local record is deleted; nothing sent", apply=no_local_write
        )
    try:
        payload = handler.to_external(row)
    except Exception as exc:  # a row the handler cannot map: this item's problem only
        return exc
    external_id = row.get(table.mapping.external_id) or None
    digest = syncstate.payload_hash(payload, external_id)
    if external_id and state is not None and state.payload_hash == digest:
        return Outcome(
            OutcomeKind.COMPLETED,
            "unchanged since the last sync; nothing sent",
            external_id=str(external_id),
            apply=no_local_write,
        )
    natural_key = handler.lookup_params(row) is not None
    marked = not external_id and not _maybe_created(item, state) and natural_key
    return Ready(target, row, state, payload, digest, external_id, natural_key, marked)


def _with_line_items(conn: Connection, lines: LineItems, found: dict[Any, tuple]) -> None:
    """Put each found record's line items in its row (``row["itens"]``)."""
    items = lines.load(conn, list(found))
    for key, (row, _state) in found.items():
        row[LINE_ITEMS] = items.get(key, [])


def _unless_waiting(lines: LineItems, item: QueueItem, ready: Ready) -> _Prepared:
    """``ready``, unless a line item's product is not in the CRM yet."""
    try:
        waiting = lines.unsynced_products(ready.row[LINE_ITEMS])
    except CannotSucceed as exc:
        return exc
    return lines.waiting_for(item.id_registro, waiting) if waiting else ready


def _target_of(targets: dict[int, _Target | Exception], item: QueueItem) -> _Target:
    target = targets[item.id]
    assert isinstance(target, _Target)
    return target


def _marked(prepared: _Prepared | None) -> bool:
    return isinstance(prepared, Ready) and prepared.marked


def _record(item: QueueItem) -> syncstate.RecordKey:
    return (item.id_loja, item.entidade, item.id_registro)


def _maybe_created(item: QueueItem, state: syncstate.SyncState | None) -> bool:
    """True when an earlier attempt, or another item for the record, may have created it."""
    return item.tentativas > 1 or bool(state is not None and state.create_started_at)
