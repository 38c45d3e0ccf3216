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

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Connection, Engine

from crm_cli.engine import deletions, syncstate
from crm_cli.engine.entities import EntityTable, unreadable_numbers
from crm_cli.engine.failures import nothing_created
from crm_cli.engine.line_items import LINE_ITEMS, LineItems
from crm_cli.engine.links import StoreLinks
from crm_cli.engine.outcome import Outcome, no_local_write
from crm_cli.engine.queue import QueueItem, enqueue
from crm_cli.errors import CannotSucceed, CrmError, RecordNotFound, WaitingFor
from crm_cli.providers.client import BaseClient
from crm_cli.states import Direction, OnDelete, OutcomeKind

# ERP→CRM items read in one transaction. Their data is as old as the time it
# takes to send them all (a few seconds under a 3 requests/s limit); a change
# made meanwhile is queued again and goes in a later run.
READ_AHEAD = 10


class Resources(Protocol):
    """Where an item's client, tables and links come from (``crm_cli.engine.processor``)."""

    def client(self, id_loja: int) -> BaseClient: ...

    def table(self, entidade: str) -> EntityTable: ...

    def line_items(self, entidade: str) -> LineItems | None: ...

    def links(self, id_loja: int) -> StoreLinks: ...

    @property
    def erp_zone(self) -> ZoneInfo:
        """The zone of the ERP's wall-clock times (``database.app_time_zone``)."""
        ...

    def settle(
        self,
        conn: Connection,
        item: QueueItem,
        record_id: Any,
        external_id: str,
        received_hash: str | None,
    ) -> None:
        """A CRM record written into the ERP is what both sides hold (``ToCrm.settle``)."""
        ...

    def current(
        self, conn: Connection, item: QueueItem, record_id: Any, external_id: str
    ) -> tuple[str | None, dict | None]:
        """The hash of what an ERP row would send now, and the row (``ToCrm.current``)."""
        ...


@dataclass(frozen=True)
class _Target:
    """Where an ERP→CRM item goes: its table, its store's client and links, its handler."""

    table: EntityTable
    client: BaseClient
    handler: Any
    lines: LineItems | None  # the table of its line items, when it has one
    links: StoreLinks  # which CRM record each ERP row is, for the item's store


@dataclass(frozen=True)
class Ready:
    """An ERP→CRM item read ahead: what to send, and whether its create marker is committed."""

    target: _Target
    row: dict
    state: syncstate.SyncState | None
    payload: dict
    digest: str
    external_id: str | None  # the store's CRM record for the row (None: not in that CRM yet)
    natural_key: bool  # the CRM can be searched for the record (a lost create is found again)
    marked: bool
    owner: bool  # the store writes the row's external_id column (the PHP application's view)
    # what the row's reference columns should say once sent (owner only): a sale's
    # cliente_external_id, when its cliente_id's CRM id for the store is another
    references: dict[str, str] = field(default_factory=dict)
    delete: bool = False  # a deleted row whose CRM record goes too (on_delete: delete)


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
        if prepared.delete:
            return self._delete(item, prepared)
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
            table, lines, links = first.table, first.lines, first.links
            ids = [each.id_registro for each in group]
            try:
                found = _load(conn, table, lines, links, id_loja, entidade, ids)
            except (TypeError, ValueError, ArithmeticError):
                # a number column holding text ("abc"; SQLite keeps anything): those
                # records fail, naming table, column and row; the others are read again
                unreadable = _unreadable(conn, table, lines, ids)
                if not unreadable:
                    raise
                for each in group:
                    if each.id_registro in unreadable:
                        prepared[each.id] = CannotSucceed(unreadable[each.id_registro])
                group = [each for each in group if each.id_registro not in unreadable]
                ids = [each.id_registro for each in group]
                found = _load(conn, table, lines, links, id_loja, entidade, ids)
            rows = {key: row for key, (row, _state) in found.items()}
            crm_ids = _crm_ids(conn, links, table, found)
            refused, resolved = self._references(conn, links, table, rows)
            for each in group:
                row, state = found.get(each.id_registro, (None, None))
                if row is not None and each.id_registro in refused and not table.is_deleted(row):
                    prepared[each.id] = refused[each.id_registro]
                    continue
                owner = row is not None and links.owns(table, row)
                external_id = crm_ids.get(each.id_registro)
                ready = _prepare(each, _target_of(targets, each), row, state, external_id, owner)
                if owner and isinstance(ready, Ready):
                    ready = replace(ready, references=resolved.get(each.id_registro, {}))
                if lines is not None and isinstance(ready, Ready):
                    ready = _unless_waiting(conn, lines, each, ready)
                prepared[each.id] = ready
        return prepared

    def _references(
        self, conn: Connection, links: StoreLinks, table: EntityTable, rows: dict[Any, dict]
    ) -> tuple[dict[Any, Exception], dict[Any, dict[str, str]]]:
        """Each row's references (a sale's cliente_id) as the store's CRM ids, in their
        ``_external_id`` columns; a row whose referenced record is not in the CRM yet
        waits for it, one that names none or a missing one cannot succeed. Returns the
        problems, and by row the columns whose value changed."""
        problems: dict[Any, Exception] = {}
        changed: dict[Any, dict[str, str]] = {}
        mapping = table.mapping
        for column, entity in mapping.references:
            target = mapping.reference_target(column)
            other = self.resources.table(entity)
            named = {row.get(column) for row in rows.values()} - {None}
            crm_ids = links.crm_ids(conn, other, named)
            existing = set(other.load_many(conn, sorted(named - set(crm_ids))))
            for key, row in rows.items():
                value = row.get(column)
                if value in crm_ids:
                    if str(row.get(target) or "") != crm_ids[value]:
                        changed.setdefault(key, {})[target] = crm_ids[value]
                    row[target] = crm_ids[value]
                    continue
                if value is None:
                    if row.get(target):
                        continue  # the CRM id written by hand, as before cliente_id was read
                    problem: Exception = CannotSucceed(
                        f"{mapping.name} {key} names no {entity}: {mapping.table}.{column} "
                        f"(and {target}) is empty"
                    )
                elif value not in existing:
                    problem = CannotSucceed(
                        f"{mapping.name} {key} names {entity} {value} ({mapping.table}.{column}), "
                        f"which is not in {other.mapping.table}"
                    )
                else:
                    problem = WaitingFor(
                        f"{mapping.name} {key} waits for {entity} {value}: not in the CRM yet "
                        "(queued to be sent first)",
                        needs=[(entity, int(value))],
                    )
                problems[key] = _worse(problems.get(key), problem)
        return problems, changed

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
        lines = self.resources.line_items(item.entidade)
        for _column, entity in table.mapping.references:
            self.resources.table(entity)  # reflected now, outside the read-ahead transaction
        links = self.resources.links(item.id_loja)
        links.settled(table)
        return _Target(table, client, handler, lines, links)

    def settle(
        self,
        conn: Connection,
        item: QueueItem,
        record_id: Any,
        external_id: str,
        received_hash: str | None,
    ) -> None:
        """The CRM's record was just written into ERP row ``record_id``: what the row
        would send now is what the CRM holds. Recorded (with the row's updated_at as
        written), neither full-sync nor a later send takes it back to the CRM: no
        ping-pong."""
        digest, row = self.current(conn, item, record_id, external_id)
        touched = _updated_at(self.resources.table(item.entidade), row) if row else None
        syncstate.record_exchange(
            conn,
            item.id_loja,
            item.entidade,
            record_id,
            external_id,
            digest,
            touched,
            received_hash,
        )

    def current(
        self, conn: Connection, item: QueueItem, record_id: Any, external_id: str
    ) -> tuple[str | None, dict | None]:
        """The hash of what ERP row ``record_id`` would send now (None: it cannot be
        sent as it is, or is deleted), and the row (None: not there)."""
        table = self.resources.table(item.entidade)
        links = self.resources.links(item.id_loja)
        lines = self.resources.line_items(item.entidade)
        found = _load(conn, table, lines, links, item.id_loja, item.entidade, [record_id])
        row = found[record_id][0] if record_id in found else None
        if row is None or table.is_deleted(row):
            return None, row
        refused, _changed = self._references(conn, links, table, {record_id: row})
        if record_id in refused:
            return None, row
        return _digest_of(self.resources.client(item.id_loja), item, row, external_id), row

    def _update(self, item: QueueItem, ready: Ready) -> Outcome:
        external_id = str(ready.external_id)
        try:
            received = ready.target.client.atualizar(item.entidade, external_id, ready.payload)
        except RecordNotFound as exc:
            # the CRM said so for the record's own path: deleted there
            return deletions.mark_in_erp(
                item, ready.target.table, ready.row, external_id, exc.message
            )
        done = "deactivated" if ready.target.table.is_deleted(ready.row) else "updated"
        message = f"{done} in the CRM ({item.entidade} {external_id})"
        return self._sent(item, ready, external_id, ready.digest, received, message)

    def _delete(self, item: QueueItem, ready: Ready) -> Outcome:
        """The deleted row's CRM record is deleted too (a 404: it was already)."""
        external_id = str(ready.external_id)
        try:
            ready.target.client.deletar(item.entidade, external_id)
            message = f"deleted in the CRM ({item.entidade} {external_id}; on_delete: delete)"
        except RecordNotFound:
            message = f"the CRM had deleted {item.entidade} {external_id} already"
        return self._sent(item, ready, external_id, ready.digest, None, message)

    def _create(self, item: QueueItem, ready: Ready) -> Outcome:
        client = ready.target.client
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
        outcome = self._sent(item, ready, external_id, digest, received, message)
        return replace(outcome, commit_at_once=not ready.natural_key)

    def _look_up(self, item: QueueItem, ready: Ready) -> Outcome | None:
        """A previous attempt may have created the record before dying: find it by its
        natural key and adopt it rather than create a second one.

        Only a record that is this row's: its key equal after the provider's
        normalisation, and no other ERP row of the store's account linked to it
        (two rows sharing a key fail, naming both, with nothing written). The
        adopted record is sent the payload: the attempt may have died halfway (a
        deal created, its products not yet attached).
        """
        client, table, links = ready.target.client, ready.target.table, ready.target.links
        if not ready.natural_key:
            if ready.state is not None and ready.state.create_started_at:
                raise CannotSucceed(
                    "a previous attempt may have created this record in the CRM (its answer "
                    "never arrived) and it has no natural key to look it up by: check the "
                    "CRM, then 'crm-cli queue retry'"
                )
            return None
        candidates = [(client.external_id(r), r) for r in client.matching(item.entidade, ready.row)]
        if not candidates:
            return None
        with self.database.connect() as conn:
            taken = {
                crm_id: set(links.erp_ids(conn, table, crm_id)) - {item.id_registro}
                for crm_id, _record in candidates
            }
        free = [crm_id for crm_id, _record in candidates if not taken[crm_id]]
        if not free:
            others = sorted({other for rows in taken.values() for other in rows})
            raise CannotSucceed(
                f"{item.entidade} {item.id_registro} shares its natural key with "
                f"{item.entidade} {', '.join(map(str, others))}: the CRM's "
                f"{', '.join(crm_id for crm_id, _r in candidates)} is theirs; nothing was "
                "sent (make the keys differ in the ERP)"
            )
        external_id = free[0]
        received = client.atualizar(item.entidade, external_id, ready.payload)
        digest = syncstate.payload_hash(ready.payload, external_id)
        message = (
            f"adopted the CRM's existing {item.entidade} {external_id} "
            "(found by its natural key) instead of creating it again, and updated it"
        )
        return self._sent(item, ready, external_id, digest, received, message)

    def _sent(
        self,
        item: QueueItem,
        ready: Ready,
        external_id: str,
        digest: str,
        received: Any,
        message: str,
    ) -> Outcome:
        """A completed send: the store's link, and the row's external_id column when the
        store owns it and it says something else (one statement fewer per update)."""
        table = ready.target.table
        column = ready.row.get(table.mapping.external_id)
        write_column = ready.owner and str(column or "") != external_id
        columns = {**ready.references}

        def write_back(conn: Connection) -> None:
            references = {k: v for k, v in columns.items() if k != table.mapping.external_id}
            if references:
                table.update(conn, item.id_registro, references)
            touched = _updated_at(table, ready.row)
            if write_column:
                table.set_external_id(conn, item.id_registro, external_id)
            if references or write_column:
                # our own write may have moved an ON UPDATE updated_at: that is not a
                # change to send (a PHP edit meanwhile queued its own item)
                touched = table.updated_at_of(conn, item.id_registro)
            syncstate.record_success(
                conn,
                item.id_loja,
                item.entidade,
                item.id_registro,
                external_id,
                digest,
                touched,
            )

        return Outcome(
            OutcomeKind.COMPLETED,
            message,
            sent=ready.payload,
            received=received,
            external_id=external_id,
            apply=write_back,
        )


def _prepare(
    item: QueueItem,
    target: _Target,
    row: dict | None,
    state: syncstate.SyncState | None,
    external_id: str | None,
    owner: bool,
) -> _Prepared:
    """What to do with an ERP→CRM item, from its record, its sync state and the store's
    CRM id for it (no I/O)."""
    table, handler = target.table, target.handler
    if row is None:
        return CannotSucceed(
            f"record {item.id_registro} does not exist in table {table.mapping.table}"
        )
    if table.is_deleted(row):
        return _deleted(target, row, state, external_id, owner)
    try:
        payload = handler.to_external(row)
    except Exception as exc:  # a row the handler cannot map: this item's problem only
        return exc
    digest = syncstate.payload_hash(payload, external_id)
    if external_id and state is not None and state.payload_hash == digest:
        touched = _updated_at(target.table, row)
        return Outcome(
            OutcomeKind.COMPLETED,
            "unchanged since the last sync; nothing sent",
            external_id=str(external_id),
            apply=(
                no_local_write
                if touched == state.source_updated_at
                else _remember_updated_at(item, touched)
            ),
        )
    natural_key = handler.lookup_params(row) is not None
    marked = not external_id and not _maybe_created(item, state) and natural_key
    return Ready(target, row, state, payload, digest, external_id, natural_key, marked, owner)


def _digest_of(client: BaseClient, item: QueueItem, row: dict, external_id: str) -> str | None:
    """The hash of what ``row`` would send (None: it cannot be sent as it is; its next
    send finds out why, and says so)."""
    handler = client.entity(item.entidade).load_handler()
    try:
        return syncstate.payload_hash(handler.to_external(row), external_id)
    except Exception:
        return None


def _deleted(
    target: _Target,
    row: dict,
    state: syncstate.SyncState | None,
    external_id: str | None,
    owner: bool,
) -> _Prepared:
    """A soft-deleted row, as ``on_delete`` says: nothing, its CRM record made
    inactive (the row sent inactive, plus the handler's ``INACTIVE`` fields), or
    its CRM record deleted."""
    policy = deletions.policy_of(target.table)
    if policy is OnDelete.IGNORE or not external_id:
        why = "" if policy is OnDelete.IGNORE else " and was never in the CRM"
        return _nothing(f"the local record is deleted{why}; nothing sent")
    if policy is OnDelete.DELETE:
        digest = deletions.deleted_digest(external_id)
        if state is not None and state.payload_hash == digest:
            return _nothing("deleted in the CRM already; nothing sent")
        return Ready(target, row, state, {}, digest, external_id, False, False, owner, delete=True)
    inactive = getattr(target.handler, "INACTIVE", None)
    if inactive is None:
        spec = target.client.entity(target.table.mapping.name)
        return replace(
            _nothing(
                f"the local record is deleted, and {target.client.info.title} {spec.resource} "
                "have no inactive flag or archive; nothing sent (on_delete: deactivate)"
            ),
            warning=True,
        )
    column = target.table.mapping.active_column
    try:
        payload = {**target.handler.to_external({**row, column: 0}), **inactive}
    except Exception as exc:  # a row the handler cannot map: this item's problem only
        return exc
    digest = syncstate.payload_hash(payload, external_id)
    if state is not None and state.payload_hash == digest:
        return _nothing("deactivated in the CRM already; nothing sent")
    return Ready(target, row, state, payload, digest, external_id, False, False, owner)


def _nothing(message: str) -> Outcome:
    return Outcome(OutcomeKind.COMPLETED, message, apply=no_local_write)


def _updated_at(table: EntityTable, row: dict) -> Any:
    """The row's own updated_at (None: the entity has no such column)."""
    column = table.mapping.updated_at
    return row.get(column) if column else None


def _remember_updated_at(item: QueueItem, touched: Any) -> Callable[[Connection], None]:
    def remember(conn: Connection) -> None:
        syncstate.record_unchanged(conn, item.id_loja, item.entidade, item.id_registro, touched)

    return remember


def _crm_ids(
    conn: Connection, links: StoreLinks, table: EntityTable, found: dict[Any, tuple]
) -> dict[Any, str]:
    """The store's CRM id of each found record: its own link, else its account's, else
    the row's external_id column where the store owns the row."""
    own = {
        key: state.external_id
        for key, (_row, state) in found.items()
        if state and state.external_id
    }
    rest = [key for key in found if key not in own]
    rows = {key: row for key, (row, _state) in found.items()}
    return {**links.crm_ids(conn, table, rest, rows=rows), **own}


def _worse(known: Exception | None, new: Exception) -> Exception:
    """Two problems of one row: the one no retry fixes wins; two waits wait for both."""
    if known is None:
        return new
    if isinstance(known, WaitingFor) and isinstance(new, WaitingFor):
        return WaitingFor(f"{known.message}; {new.message}", needs=[*known.needs, *new.needs])
    return known if not isinstance(known, WaitingFor) else new


def _load(
    conn: Connection,
    table: EntityTable,
    lines: LineItems | None,
    links: StoreLinks,
    id_loja: int,
    entidade: str,
    ids: list[Any],
) -> dict[Any, tuple]:
    """The records (and their sync state, and line items) of ``ids``."""
    found = syncstate.load_with_records(conn, table, id_loja, entidade, ids)
    if lines is not None:
        _with_line_items(conn, lines, links, found)
    return found


def _unreadable(
    conn: Connection, table: EntityTable, lines: LineItems | None, ids: list[Any]
) -> dict[Any, str]:
    """The records among ``ids`` (or their line items) with text in a number column:
    each fails, naming table, column and row; the others are read as usual."""
    found = unreadable_numbers(conn, table.table, table.pk, ids)
    if lines is not None:
        for record_id, why in unreadable_numbers(conn, lines.table, lines.parent, ids).items():
            found.setdefault(record_id, why)
    return found


def _with_line_items(
    conn: Connection, lines: LineItems, links: StoreLinks, found: dict[Any, tuple]
) -> None:
    """Put each found record's line items in its row (``row["itens"]``), each product
    by the store's CRM id for it."""
    items = lines.load(conn, list(found), links)
    for key, (row, _state) in found.items():
        row[LINE_ITEMS] = items.get(key, [])


def _unless_waiting(conn: Connection, lines: LineItems, item: QueueItem, ready: Ready) -> _Prepared:
    """``ready``, unless a line item's product is not in the CRM yet (it waits for
    it), or never can be (it fails, naming it)."""
    try:
        waiting = lines.unsynced_products(ready.row[LINE_ITEMS])
        return lines.waiting_for(conn, item.id_registro, waiting) if waiting else ready
    except CannotSucceed as exc:
        return exc


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
