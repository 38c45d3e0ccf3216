"""Taking one queue item through its store's CRM: the single processing path.

Used by cron runs (``crm_cli.engine.run``), "sync now" and ``import``. It
returns an ``Outcome``; the caller commits it (local writes, queue state and
the log row), with those of a few other items, before it reads again, and at
once when ``Outcome.commit_at_once`` says a crash must not lose it. The two
directions are ``to_crm`` and ``to_erp``; what an error means is ``outcome``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy.engine import Connection, Engine

from crm_cli.engine.clients import StoreClients
from crm_cli.engine.entities import EntityTable
from crm_cli.engine.line_items import LineItems
from crm_cli.engine.links import StoreLinks
from crm_cli.engine.outcome import Outcome, outcome_of
from crm_cli.engine.ownership import Ownership
from crm_cli.engine.queue import QueueItem
from crm_cli.engine.ratelimit import AccountPolicy
from crm_cli.engine.to_crm import ToCrm
from crm_cli.engine.to_erp import ToErp
from crm_cli.errors import StoreConfigError, StoreUnavailable
from crm_cli.integrations import Integracoes
from crm_cli.providers.client import BaseClient
from crm_cli.settings import Settings
from crm_cli.states import Direction
from crm_cli.timezones import zone_of


class Processor:
    def __init__(self, database: Engine, settings: Settings, integracoes: Integracoes) -> None:
        self.database, self.settings, self.integracoes = database, settings, integracoes
        self.erp_zone = zone_of(settings.app_time_zone)  # the ERP's wall times
        self.clients = StoreClients(
            database,
            integracoes,
            before_wait=self._idle,
            policy=AccountPolicy.of(settings.sync),
            erp_zone=self.erp_zone,
        )
        self._tables: dict[str, EntityTable] = {}
        self._line_items: dict[str, LineItems | None] = {}
        self._ownership: Ownership | None = None
        self.to_crm = ToCrm(database, self)
        self.to_erp = ToErp(database, self)
        self.on_idle: Callable[[], None] | None = None  # run while a request waits for its slot

    @property
    def max_wait(self) -> float | None:
        """How long a request may wait for its slot: the run's remaining time budget."""
        return self.clients.max_wait

    @max_wait.setter
    def max_wait(self, seconds: float | None) -> None:
        self.clients.max_wait = seconds

    @property
    def requests_sent(self) -> int:
        return self.clients.requests_sent

    def crm_down(self, id_loja: int) -> bool:
        """Whether the store's CRM left the last requests unanswered, more than one in a
        row: it is down, and an item it did not answer is not to blame."""
        return self.clients.unanswered_in_a_row(id_loja) > 1

    def client(self, id_loja: int) -> BaseClient:
        try:
            return self.clients.get(id_loja)
        except StoreUnavailable as exc:
            if isinstance(exc, StoreConfigError):
                raise
            raise StoreUnavailable(
                f"store {id_loja} has no active CRM integration: {exc.message}", exc.cause
            ) from None

    def _idle(self) -> None:
        if self.on_idle is not None:
            self.on_idle()

    def table(self, entidade: str) -> EntityTable:
        if entidade not in self._tables:
            self._tables[entidade] = EntityTable(self.database, self.settings.entity(entidade))
        return self._tables[entidade]

    def links(self, id_loja: int) -> StoreLinks:
        """Which CRM record each ERP row is for the store (read once per run: the stores
        and their accounts as configured when the run began)."""
        if self._ownership is None:
            self._ownership = Ownership.of(self.integracoes)
        return StoreLinks(self._ownership, id_loja)

    def find_row(
        self, conn: Connection, id_loja: int, entidade: str, external_id: str
    ) -> dict | None:
        """The ERP row the store links to the CRM's record ``external_id`` (``import``)."""
        return self.to_erp.find_row(conn, self.links(id_loja), self.table(entidade), external_id)

    def line_items(self, entidade: str) -> LineItems | None:
        if entidade not in self._line_items:
            mapping = self.settings.entity(entidade)
            self._line_items[entidade] = (
                LineItems(self.database, mapping, self.table("produto"))
                if mapping.items_table
                else None
            )
        return self._line_items[entidade]

    # -- one item --------------------------------------------------------------------

    def process(self, item: QueueItem) -> Outcome:
        try:
            if item.direcao == Direction.ERP_TO_CRM:
                return self.to_crm.process(item)
            return self.to_erp.process(item)
        except Exception as exc:  # what it means: crm_cli.engine.failures (fatal: raised)
            return outcome_of(exc)

    def reads_database(self, item: QueueItem) -> bool:
        """False when ``item`` was read ahead: processing it reads nothing more."""
        return item.direcao != Direction.ERP_TO_CRM or not self.to_crm.is_prepared(item)

    def expect(self, items: list[QueueItem]) -> None:
        """The run's items, in the order it will take them: ERP→CRM ones are read ahead."""
        self.to_crm.expect(items)

    def forget(self, items: Iterable[QueueItem]) -> None:
        """Items going back to the queue unsent: clear the create markers written for them."""
        self.to_crm.forget(items)

    def absorb(
        self,
        item: QueueItem,
        record: dict,
        row: dict | None,
        external_id: str | None = None,
        seen: str | None = None,
    ) -> Outcome:
        """Bring a CRM record into the ERP (``import``, ``pull``): update ``row`` or insert
        it; ``seen``: the hash of the record as listed (default: of ``record``)."""
        return self.to_erp.absorb(item, record, row, external_id, seen)

    def settle(
        self,
        conn: Connection,
        item: QueueItem,
        record_id: Any,
        external_id: str,
        received_hash: str | None,
    ) -> None:
        self.to_crm.settle(conn, item, record_id, external_id, received_hash)

    def current(
        self, conn: Connection, item: QueueItem, record_id: Any, external_id: str
    ) -> tuple[str | None, dict | None]:
        return self.to_crm.current(conn, item, record_id, external_id)
