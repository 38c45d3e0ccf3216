"""Taking one queue item through its store's CRM: the single processing path.

Used by cron runs (``crm_cli.sync``) and by "sync now" for one record. It
returns an ``Outcome``; the caller commits it (local writes, queue state and
the log row) in one transaction, right after the CRM answered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Connection, Engine

from crm_cli import syncstate
from crm_cli.entities import EntityTable
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
from crm_cli.queue import ERP_TO_CRM, QueueItem
from crm_cli.settings import Settings
from providers.client import BaseClient
from providers.registry import open_client


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

    @property
    def log_status(self) -> str:
        return (
            "sucesso"
            if self.status == "completed"
            else ("alerta" if self.status == "released" else "erro")
        )


def _no_local_write(conn: Connection) -> None:
    return None


class Processor:
    def __init__(self, engine: Engine, settings: Settings, integracoes: Integracoes) -> None:
        self.engine, self.settings, self.integracoes = engine, settings, integracoes
        self._clients: dict[int, BaseClient] = {}
        self._tables: dict[str, EntityTable] = {}
        self.max_wait: float | None = None  # the run's remaining time budget, per request

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
            self._clients[id_loja] = open_client(store, self.engine, self.integracoes)
        client = self._clients[id_loja]
        client.max_wait = self.max_wait
        return client

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

    # -- ERP → CRM ---------------------------------------------------------------------

    def _to_crm(self, item: QueueItem) -> Outcome:
        if item.id_registro is None:
            raise CannotSucceed("an ERP→CRM item needs id_registro (the local record's id)")
        table = self.table(item.entidade)
        client = self.client(item.id_loja)
        handler = client.entity(item.entidade).load_handler()
        # One transaction reads the record and, for a plain first create, commits
        # the create marker before the request goes out.
        with self.engine.begin() as conn:
            row, state = syncstate.load_with_record(
                conn, table, item.id_loja, item.entidade, item.id_registro
            )
            if row is None:
                raise CannotSucceed(
                    f"record {item.id_registro} does not exist in table {table.mapping.table}"
                )
            if table.is_deleted(row):
                return Outcome(
                    "completed", "the local record is deleted; nothing sent", apply=_no_local_write
                )
            payload = handler.to_external(row)
            external_id = row.get(table.mapping.external_id) or None
            digest = syncstate.payload_hash(payload, external_id)
            if external_id and state is not None and state.payload_hash == digest:
                return Outcome(
                    "completed",
                    "unchanged since the last sync; nothing sent",
                    external_id=str(external_id),
                    apply=_no_local_write,
                )
            marked = not external_id and not _maybe_created(item, state)
            if marked:
                syncstate.mark_create_started(conn, item.id_loja, item.entidade, item.id_registro)
        if external_id:
            try:
                received = client.atualizar(item.entidade, str(external_id), payload)
            except RecordNotFound:
                raise CannotSucceed(
                    f"the CRM has no {item.entidade} {external_id} any more (deleted there?); "
                    f"clear {table.mapping.table}.{table.mapping.external_id} to create it again"
                ) from None
            message = f"updated in the CRM ({item.entidade} {external_id})"
            return self._sent(item, table, str(external_id), digest, payload, received, message)
        return self._create(item, table, client, handler, row, state, payload, marked)

    def _create(
        self,
        item: QueueItem,
        table: EntityTable,
        client: BaseClient,
        handler: Any,
        row: dict,
        state: syncstate.SyncState | None,
        payload: dict,
        marked: bool,
    ) -> Outcome:
        if not marked:
            # A previous attempt may have created it before dying: look it up
            # by its natural key and adopt it rather than create a second one.
            if handler.lookup_params(row) is None:
                if state is not None and state.create_started_at:
                    raise CannotSucceed(
                        "a previous attempt may have created this record in the CRM (its answer "
                        "never arrived) and it has no natural key to look it up by: check the "
                        "CRM, then 'crm-cli queue retry'"
                    )
            else:
                found = client.procurar(item.entidade, row)
                if found is not None:
                    external_id = client.external_id(found)
                    digest = syncstate.payload_hash(payload, external_id)
                    message = (
                        f"adopted the CRM's existing {item.entidade} {external_id} "
                        "(found by its natural key) instead of creating it again"
                    )
                    return self._sent(item, table, external_id, digest, payload, found, message)
            with self.engine.begin() as conn:
                syncstate.mark_create_started(conn, item.id_loja, item.entidade, item.id_registro)
        try:
            received = client.criar(item.entidade, payload)
        except CrmError as exc:
            if _nothing_created(exc):
                with self.engine.begin() as conn:
                    syncstate.clear_create(conn, item.id_loja, item.entidade, item.id_registro)
            raise
        external_id = client.external_id(received)
        digest = syncstate.payload_hash(payload, external_id)
        message = f"created in the CRM ({item.entidade} {external_id})"
        return self._sent(item, table, external_id, digest, payload, received, message)

    def _sent(
        self,
        item: QueueItem,
        table: EntityTable,
        external_id: str,
        digest: str,
        payload: Any,
        received: Any,
        message: str,
    ) -> Outcome:
        def write_back(conn: Connection) -> None:
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
        from crm_cli.conflicts import resolve

        changes, why = resolve(table.mapping, handler, row, values, record)
        record_id = row[table.mapping.primary_key]

        def update(conn: Connection) -> int:
            table.update(conn, record_id, changes)
            return record_id

        message = f"local record {record_id} {why} from the CRM's {item.entidade} {external_id}"
        return Outcome("completed", message, received=record, external_id=external_id, apply=update)


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
