"""Taking one queue item through its store's CRM: the single processing path.

Used by cron runs (``crm_cli.sync``) and by "sync now" for one record. It
returns an ``Outcome``; the caller commits it (local writes, queue state and
the log row), with those of a few other items, before it reads again, and at
once when ``Outcome.commit_at_once`` says a crash must not lose it.

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
from dataclasses import dataclass, field
from typing import Any

from crm_cli.providers.client import BaseClient
from crm_cli.providers.registry import open_client
from sqlalchemy.engine import Connection, Engine

from crm_cli.engine import syncstate
from crm_cli.engine.entities import EntityTable
from crm_cli.engine.queue import ERP_TO_CRM, QueueItem
from crm_cli.errors import (
    AuthError,
    ConfigError,
    CredentialsError,
    CrmError,
    EntityNotSupported,
    NotFoundError,
    ProviderUnreachable,
    RateLimited,
    ReauthorizationNeeded,
    RecordNotFound,
    ValidationFailed,
)
from crm_cli.integrations import REAUTHORIZATION, Integracoes
from crm_cli.settings import Settings


class CannotSucceed(CrmError):
    """An item that no retry can fix (record missing, unknown create outcome, …)."""


# Errors that retrying the same item cannot fix: the item fails at once.
PERMANENT = (
    CannotSucceed,
    ValidationFailed,
    RecordNotFound,
    EntityNotSupported,
    NotFoundError,
    ConfigError,
)

REAUTHORIZATION_WAIT = 600  # seconds before items of a store awaiting re-authorisation come back
# ERP→CRM items read in one transaction. Their data is as old as the time it
# takes to send them all (a few seconds under a 3 requests/s limit); a change
# made meanwhile is queued again and goes in a later run.
READ_AHEAD = 10
Apply = Callable[[Connection], "int | None"]  # local writes; may return a new record id


@dataclass
class Outcome:
    status: str  # completed | retry | failed | released
    message: str
    sent: Any = None
    received: Any = None
    external_id: str | None = None
    id_registro: int | None = None
    retry_after: float | None = None  # released by a rate limit: the provider's wait
    release_delay: int = 5  # released for another reason: seconds before it is due again
    apply: Apply | None = field(default=None, repr=False)
    # A create that no later attempt could find again (no natural key): lost
    # with a crash, it would leave its item to an operator.
    commit_at_once: bool = False

    @property
    def log_status(self) -> str:
        return (
            "sucesso"
            if self.status == "completed"
            else ("alerta" if self.status == "released" else "erro")
        )


def _no_local_write(conn: Connection) -> None:
    return None


@dataclass(frozen=True)
class _Target:
    """Where an ERP→CRM item goes: its table, its store's client, its entity's handler."""

    table: EntityTable
    client: BaseClient
    handler: Any


@dataclass(frozen=True)
class _Ready:
    """An ERP→CRM item read ahead: what to send, and whether its create marker is committed."""

    target: _Target
    row: dict
    state: syncstate.SyncState | None
    payload: dict
    digest: str
    external_id: str | None
    natural_key: bool  # the CRM can be searched for the record (a lost create is found again)
    marked: bool


_Prepared = _Ready | Outcome | CrmError  # an item's preparation: ready, already decided, or failed


class Processor:
    def __init__(self, engine: Engine, settings: Settings, integracoes: Integracoes) -> None:
        self.engine, self.settings, self.integracoes = engine, settings, integracoes
        self._clients: dict[int, BaseClient] = {}
        self._tables: dict[str, EntityTable] = {}
        self._upcoming: list[QueueItem] = []  # the run's items, in the order it takes them
        self._prepared: dict[int, _Prepared] = {}  # by item id: read ahead, not yet sent
        self._max_wait: float | None = None
        self.on_idle: Callable[[], None] | None = None  # run while a request waits for its slot

    @property
    def max_wait(self) -> float | None:
        """How long a request may wait for its slot: the run's remaining time budget."""
        return self._max_wait

    @max_wait.setter
    def max_wait(self, seconds: float | None) -> None:
        # Every open client at once: items read ahead hold their client from
        # then, and must wait no longer than what is left of the run now.
        self._max_wait = seconds
        for client in self._clients.values():
            client.max_wait = seconds

    @property
    def requests_sent(self) -> int:
        return sum(c.requests_sent for c in self._clients.values())

    def client(self, id_loja: int) -> BaseClient:
        if id_loja not in self._clients:
            try:
                store = self.integracoes.obter_configuracao(id_loja, incluir_inativa=False)
            except NotFoundError as exc:
                raise CannotSucceed(
                    f"store {id_loja} has no active CRM integration: {exc.message}"
                ) from None
            reason = store.setting(REAUTHORIZATION)
            if reason:
                raise ReauthorizationNeeded(
                    f"store {id_loja} must be authorised again ({reason}): "
                    f"run 'crm-cli config bling-authorize --loja {id_loja}'"
                )
            client = open_client(store, self.engine, self.integracoes)
            client.max_wait = self._max_wait
            client.limiter.before_wait = self._idle
            self._clients[id_loja] = client
        return self._clients[id_loja]

    def _idle(self) -> None:
        if self.on_idle is not None:
            self.on_idle()

    def table(self, entidade: str) -> EntityTable:
        if entidade not in self._tables:
            self._tables[entidade] = EntityTable(self.engine, self.settings.entity(entidade))
        return self._tables[entidade]

    # -- one item --------------------------------------------------------------------

    def process(self, item: QueueItem) -> Outcome:
        try:
            if item.direcao == ERP_TO_CRM:
                return self._to_crm(item)
            return self._to_erp(item)
        except RateLimited as exc:
            return Outcome("released", exc.message, retry_after=exc.retry_after)
        except ReauthorizationNeeded as exc:
            # not the item's fault: it waits, attempts intact, for an operator
            return Outcome("released", exc.message, release_delay=REAUTHORIZATION_WAIT)
        except PERMANENT as exc:
            return Outcome("failed", exc.message)
        except (CrmError, CredentialsError) as exc:
            return Outcome("retry", exc.message)

    def reads_database(self, item: QueueItem) -> bool:
        """False when ``item`` was read ahead: processing it reads nothing more."""
        return item.direcao != ERP_TO_CRM or item.id not in self._prepared

    # -- ERP → CRM ---------------------------------------------------------------------

    def expect(self, items: list[QueueItem]) -> None:
        """The run's items, in the order it will take them: ERP→CRM ones are read ahead."""
        self._upcoming = list(items)

    def forget(self, items: Iterable[QueueItem]) -> None:
        """Items going back to the queue unsent: clear the create markers written for them."""
        keys = [_record(item) for item in items if _marked(self._prepared.pop(item.id, None))]
        if keys:
            with self.engine.begin() as conn:
                syncstate.clear_creates(conn, keys)

    def _to_crm(self, item: QueueItem) -> Outcome:
        prepared = self._prepared.pop(item.id, None)
        if prepared is None:
            self._read_ahead(item)
            prepared = self._prepared.pop(item.id)
        if isinstance(prepared, CrmError):
            raise prepared
        if isinstance(prepared, Outcome):
            return prepared
        if prepared.external_id:
            return self._update(item, prepared)
        return self._create(item, prepared)

    def _read_ahead(self, item: QueueItem) -> None:
        """Prepare ``item`` and the ERP→CRM items that follow it, reading in one transaction."""
        batch = self._following(item)
        # Clients and tables first, outside the transaction: opening a client
        # may write (a token refresh), and SQLite has one writer at a time.
        targets: dict[int, _Target] = {}
        for each in batch:
            try:
                targets[each.id] = self._target(each)
            except CrmError as exc:
                self._prepared[each.id] = exc
        groups: dict[tuple[int, str], list[QueueItem]] = {}
        for each in batch:
            if each.id in targets:
                groups.setdefault((each.id_loja, each.entidade), []).append(each)
        with self.engine.begin() as conn:
            for (id_loja, entidade), group in groups.items():
                table = targets[group[0].id].table
                ids = [each.id_registro for each in group]
                found = syncstate.load_with_records(conn, table, id_loja, entidade, ids)
                for each in group:
                    row, state = found.get(each.id_registro, (None, None))
                    self._prepared[each.id] = _prepare(each, targets[each.id], row, state)
            marked = [_record(each) for each in batch if _marked(self._prepared[each.id])]
            syncstate.mark_creates_started(conn, marked)

    def _following(self, item: QueueItem) -> list[QueueItem]:
        """``item``, then the ERP→CRM items right after it in the run not yet prepared.

        It stops at a CRM→ERP item: that one may write a record read here.
        """
        ids = [each.id for each in self._upcoming]
        if item.id not in ids:
            return [item]
        batch = [item]
        for each in self._upcoming[ids.index(item.id) + 1 :]:
            if each.direcao != ERP_TO_CRM or len(batch) == READ_AHEAD:
                break
            if each.id not in self._prepared:
                batch.append(each)
        return batch

    def _target(self, item: QueueItem) -> _Target:
        if item.id_registro is None:
            raise CannotSucceed("an ERP→CRM item needs id_registro (the local record's id)")
        table = self.table(item.entidade)
        client = self.client(item.id_loja)
        return _Target(table, client, client.entity(item.entidade).load_handler())

    def _update(self, item: QueueItem, ready: _Ready) -> Outcome:
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

    def _create(self, item: QueueItem, ready: _Ready) -> Outcome:
        table, client = ready.target.table, ready.target.client
        if not ready.marked:
            if _maybe_created(item, ready.state):
                found = self._look_up(item, ready)
                if found is not None:
                    return found
            with self.engine.begin() as conn:
                syncstate.mark_creates_started(conn, [_record(item)])
        try:
            received = client.criar(item.entidade, ready.payload)
        except CrmError as exc:
            if _nothing_created(exc):
                with self.engine.begin() as conn:
                    syncstate.clear_creates(conn, [_record(item)])
            raise
        external_id = client.external_id(received)
        digest = syncstate.payload_hash(ready.payload, external_id)
        message = f"created in the CRM ({item.entidade} {external_id})"
        outcome = self._sent(item, table, external_id, digest, ready.payload, received, message)
        outcome.commit_at_once = not ready.natural_key
        return outcome

    def _look_up(self, item: QueueItem, ready: _Ready) -> Outcome | None:
        """A previous attempt may have created the record before dying: find it by its
        natural key and adopt it rather than create a second one."""
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
        digest = syncstate.payload_hash(ready.payload, external_id)
        message = (
            f"adopted the CRM's existing {item.entidade} {external_id} "
            "(found by its natural key) instead of creating it again"
        )
        table = ready.target.table
        return self._sent(item, table, external_id, digest, ready.payload, found, message)

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
            "completed",
            message,
            sent=payload,
            received=received,
            external_id=external_id,
            apply=write_back,
        )

    # -- CRM → ERP ------------------------------------------------------------------------

    def _to_erp(self, item: QueueItem) -> Outcome:
        table = self.table(item.entidade)
        client = self.client(item.id_loja)
        client.entity(item.entidade)  # an unsupported entity fails before any request
        with self.engine.connect() as conn:
            row = table.load(conn, item.id_registro) if item.id_registro is not None else None
            external_id = item.external_id or (row or {}).get(table.mapping.external_id)
            if row is None and external_id and item.id_registro is None:
                row = table.find_by_external_id(conn, str(external_id))
        if item.id_registro is not None and row is None:
            raise CannotSucceed(
                f"record {item.id_registro} does not exist in table {table.mapping.table}"
            )
        if not external_id:
            raise CannotSucceed("nothing to fetch: the item and the record have no external_id")
        try:
            record = client.buscar(item.entidade, str(external_id))
        except RecordNotFound:
            raise CannotSucceed(f"the CRM has no {item.entidade} {external_id}") from None
        return self.absorb(item, record, row, str(external_id))

    def absorb(
        self, item: QueueItem, record: dict, row: dict | None, external_id: str | None = None
    ) -> Outcome:
        """Bring a CRM record into the ERP: update ``row`` (conflict strategy) or insert it."""
        table = self.table(item.entidade)
        client = self.client(item.id_loja)
        handler = client.entity(item.entidade).load_handler()
        external_id = external_id or client.external_id(record)
        values = handler.to_internal(record)
        values[table.mapping.external_id] = external_id
        if row is None:
            return self._insert_local(item, table, external_id, values, record)
        return self._update_local(item, table, handler, row, external_id, values, record)

    def _insert_local(
        self, item: QueueItem, table: EntityTable, external_id: str, values: dict, record: Any
    ) -> Outcome:
        if table.mapping.store_column:
            values[table.mapping.store_column] = item.id_loja

        def insert(conn: Connection) -> int:
            return table.insert(conn, values)

        return Outcome(
            "completed",
            f"inserted locally from the CRM's {item.entidade} {external_id}",
            received=record,
            external_id=external_id,
            apply=insert,
        )

    def _update_local(
        self,
        item: QueueItem,
        table: EntityTable,
        handler: Any,
        row: dict,
        external_id: str,
        values: dict,
        record: Any,
    ) -> Outcome:
        from crm_cli.engine.conflicts import resolve

        changes, why = resolve(table.mapping, handler, row, values, record)
        record_id = row[table.mapping.primary_key]

        def update(conn: Connection) -> int:
            table.update(conn, record_id, changes)
            return record_id

        message = f"local record {record_id} {why} from the CRM's {item.entidade} {external_id}"
        return Outcome("completed", message, received=record, external_id=external_id, apply=update)


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
            "completed", "the local record is deleted; nothing sent", apply=_no_local_write
        )
    try:
        payload = handler.to_external(row)
    except CrmError as exc:
        return exc
    external_id = row.get(table.mapping.external_id) or None
    digest = syncstate.payload_hash(payload, external_id)
    if external_id and state is not None and state.payload_hash == digest:
        return Outcome(
            "completed",
            "unchanged since the last sync; nothing sent",
            external_id=str(external_id),
            apply=_no_local_write,
        )
    natural_key = handler.lookup_params(row) is not None
    marked = not external_id and not _maybe_created(item, state) and natural_key
    return _Ready(target, row, state, payload, digest, external_id, natural_key, marked)


def _marked(prepared: _Prepared | None) -> bool:
    return isinstance(prepared, _Ready) and prepared.marked


def _record(item: QueueItem) -> syncstate.RecordKey:
    return (item.id_loja, item.entidade, item.id_registro)


def _maybe_created(item: QueueItem, state: syncstate.SyncState | None) -> bool:
    """True when an earlier attempt, or another item for the record, may have created it."""
    return item.tentativas > 1 or bool(state is not None and state.create_started_at)


def _nothing_created(exc: CrmError) -> bool:
    """True when the error proves the CRM did not create the record."""
    if isinstance(exc, (RateLimited, ValidationFailed, AuthError, EntityNotSupported)):
        return True
    return isinstance(exc, ProviderUnreachable) and exc.cause in (
        "connection refused",
        "host not found",
        "TLS error",
    )
