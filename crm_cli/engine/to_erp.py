"""CRM → ERP: a CRM record fetched (or handed over by ``import``) and written into the ERP.

The record's ERP row is the one the store's links (``crm_cli.engine.links``) tie
to it; writing it links them (again). The row's external_id column, and the
``_external_id`` twins of its references, are the PHP application's view of
one store's ids: written only when this store owns the row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from sqlalchemy.engine import Connection, Engine

from crm_cli.engine import deletions, syncstate
from crm_cli.engine.conflicts import Clocks, resolve
from crm_cli.engine.entities import EntityTable
from crm_cli.engine.line_items import LINE_ITEMS, LineItems
from crm_cli.engine.links import StoreLinks
from crm_cli.engine.outcome import Outcome
from crm_cli.engine.queue import QueueItem
from crm_cli.engine.to_crm import Resources
from crm_cli.errors import CannotSucceed, RecordNotFound
from crm_cli.states import OnDelete, OutcomeKind


class ToErp:
    """The CRM→ERP path of an item."""

    def __init__(self, database: Engine, resources: Resources) -> None:
        self.database = database
        self.resources = resources  # each item's client, table, line items and links

    def process(self, item: QueueItem) -> Outcome:
        table = self.resources.table(item.entidade)
        client = self.resources.client(item.id_loja)
        client.entity(item.entidade)  # an unsupported entity fails before any request
        links = self.resources.links(item.id_loja)
        links.settled(table)
        with self.database.connect() as conn:
            row = table.load(conn, item.id_registro) if item.id_registro is not None else None
            external_id = item.external_id
            if not external_id and row is not None:
                crm_ids = links.crm_ids(conn, table, [item.id_registro], {item.id_registro: row})
                external_id = crm_ids.get(item.id_registro)
            if row is None and external_id and item.id_registro is None:
                row = self.find_row(conn, links, table, str(external_id))
        if item.id_registro is not None and row is None:
            raise CannotSucceed(
                f"record {item.id_registro} does not exist in table {table.mapping.table}"
            )
        if not external_id:
            raise CannotSucceed("nothing to fetch: the item and the record have no external_id")
        try:
            record = client.buscar(item.entidade, str(external_id))
        except RecordNotFound as exc:
            if row is None:
                raise CannotSucceed(f"the CRM has no {item.entidade} {external_id}") from None
            return deletions.mark_in_erp(item, table, row, str(external_id), exc.message)
        return self.absorb(item, record, row, str(external_id))

    @staticmethod
    def find_row(
        conn: Connection, links: StoreLinks, table: EntityTable, external_id: str
    ) -> dict | None:
        """The ERP row the store links to the CRM's record ``external_id`` (None: none)."""
        ids = links.erp_ids(conn, table, external_id)
        if len(ids) > 1:
            raise CannotSucceed(
                f"{table.mapping.name} {', '.join(map(str, ids))} are all linked to the CRM's "
                f"{external_id}: nothing was written (tell them apart in the ERP)"
            )
        return table.load(conn, ids[0]) if ids else None

    def absorb(
        self,
        item: QueueItem,
        record: dict,
        row: dict | None,
        external_id: str | None = None,
        seen: str | None = None,
    ) -> Outcome:
        """Bring a CRM record into the ERP: update ``row`` (conflict strategy) or insert it.
        ``seen``: the hash of the record as the CRM listed it (default: of ``record``),
        kept so that reading it again unchanged costs nothing."""
        seen = seen or syncstate.record_hash(record)
        deleted = self._deleted_there(item, record, row, external_id)
        if deleted is not None:
            return deleted
        outcome = self._absorb(item, record, row, external_id, seen)
        return self._settled(item, outcome, seen)

    def _deleted_there(
        self, item: QueueItem, record: dict, row: dict | None, external_id: str | None
    ) -> Outcome | None:
        """The outcome of a record the CRM reports deleted (None: it is not, or the
        policy ignores deletions and it is written as any other)."""
        client = self.resources.client(item.id_loja)
        if not deletions.reported_deleted(client.entity(item.entidade).load_handler(), record):
            return None
        external_id = external_id or client.external_id(record)
        if row is None:  # nothing to mark, nothing to bring in
            return Outcome(
                OutcomeKind.COMPLETED,
                f"the CRM's {item.entidade} {external_id} is deleted there; not inserted",
            )
        table = self.resources.table(item.entidade)
        if deletions.policy_of(table) is OnDelete.IGNORE:
            return None
        return deletions.mark_in_erp(item, table, row, external_id, "reported deleted")

    def _settled(self, item: QueueItem, outcome: Outcome, seen: str) -> Outcome:
        """Once written, the row is what the CRM holds: nothing goes back (no ping-pong)."""
        write = outcome.apply
        external_id = outcome.external_id
        if write is None or external_id is None:
            return outcome

        def settled(conn: Connection) -> Any:
            record_id = write(conn)
            self.resources.settle(conn, item, record_id, external_id, seen)
            return record_id

        return replace(outcome, apply=settled)

    def _absorb(
        self, item: QueueItem, record: dict, row: dict | None, external_id: str | None, seen: str
    ) -> Outcome:
        table = self.resources.table(item.entidade)
        client = self.resources.client(item.id_loja)
        links = self.resources.links(item.id_loja)
        handler = client.entity(item.entidade).load_handler()
        external_id = external_id or client.external_id(record)
        values = handler.to_internal(record)
        if row is None and table.mapping.store_column:
            values[table.mapping.store_column] = item.id_loja
        self._references(links, table, values)
        values.pop(table.mapping.external_id, None)  # written by _link, where it may be
        owner = links.owns(table, row if row is not None else values)
        if not owner:  # another store's ids are the ERP's view of this row
            for column, _entity in table.mapping.references:
                values.pop(table.mapping.reference_target(column), None)
        link = _link(item, table, external_id, owner)
        if row is None:
            return self._insert_local(item, table, external_id, values, record, link)
        outcome = self._update_local(item, table, handler, row, external_id, values, record, link)
        return self._unless_both_changed(item, table, row, outcome, seen, external_id)

    def _unless_both_changed(
        self,
        item: QueueItem,
        table: EntityTable,
        row: dict,
        outcome: Outcome,
        seen: str,
        external_id: str,
    ) -> Outcome:
        """A record changed in the ERP and in the CRM since their last exchange: the
        entity's conflict strategy decided, and the log says so (alerta). The ERP's
        side changed when what its row would send is not what was last exchanged."""
        record_id = row[table.mapping.primary_key]
        with self.database.connect() as conn:
            state = syncstate.load(conn, item.id_loja, item.entidade, record_id)
            if state is None or state.payload_hash is None or not state.crm_changed(seen):
                return outcome
            digest, _row = self.resources.current(conn, item, record_id, external_id)
        if digest is None or digest == state.payload_hash:
            return outcome
        message = (
            f"changed on both sides since the last exchange; conflict strategy "
            f"{table.mapping.conflict}: {outcome.message}"
        )
        return replace(outcome, message=message, warning=True)

    def _references(self, links: StoreLinks, table: EntityTable, values: dict) -> None:
        """A reference's CRM id (a sale's client) back to the ERP row it is, for the store
        (a read only when the record names one: an import reads thousands of records)."""
        named = [
            (column, entity, values[table.mapping.reference_target(column)])
            for column, entity in table.mapping.references
            if values.get(table.mapping.reference_target(column))
        ]
        if not named:
            return
        with self.database.connect() as conn:
            for column, entity, crm_id in named:
                ids = links.erp_ids(conn, self.resources.table(entity), str(crm_id))
                if len(ids) == 1:
                    values[column] = ids[0]

    def _insert_local(
        self,
        item: QueueItem,
        table: EntityTable,
        external_id: str,
        values: dict,
        record: Any,
        link: Callable[[Connection, int], None],
    ) -> Outcome:
        def insert(conn: Connection) -> int:
            record_id = table.insert(conn, values)
            link(conn, record_id)
            return record_id

        outcome = Outcome(
            OutcomeKind.COMPLETED,
            f"inserted locally from the CRM's {item.entidade} {external_id}",
            received=record,
            external_id=external_id,
            apply=insert,
        )
        return self._with_line_items(item, outcome, values)

    def _update_local(
        self,
        item: QueueItem,
        table: EntityTable,
        handler: Any,
        row: dict,
        external_id: str,
        values: dict,
        record: Any,
        link: Callable[[Connection, int], None],
    ) -> Outcome:
        for column in getattr(handler, "ERP_OWNS", ()):  # the ERP numbers these itself
            if row.get(column) not in (None, ""):
                values.pop(column, None)
        clocks = Clocks(self.resources.erp_zone, self.resources.client(item.id_loja).record_zone)
        changes, why = resolve(table.mapping, handler, row, values, record, clocks)
        record_id = row[table.mapping.primary_key]

        def update(conn: Connection) -> int:
            table.update(conn, record_id, changes)
            link(conn, record_id)
            return record_id

        message = f"local record {record_id} {why} from the CRM's {item.entidade} {external_id}"
        if not changes:  # the same values (a record read back, an echo of our own send)
            message = (
                f"local record {record_id} already holds the CRM's {item.entidade} "
                f"{external_id}; nothing written"
            )
        outcome = Outcome(
            OutcomeKind.COMPLETED,
            message,
            received=record,
            external_id=external_id,
            apply=update,
            same_locally=not changes,
        )
        # the items as the strategy decided: none when it kept the ERP's values
        return self._with_line_items(item, outcome, changes)

    def _with_line_items(self, item: QueueItem, outcome: Outcome, written: dict) -> Outcome:
        """The CRM's line items in ``written`` (the values the record gets) replace the
        record's, in the same transaction as the record itself."""
        lines: LineItems | None = self.resources.line_items(item.entidade)
        items = written.get(LINE_ITEMS)
        write = outcome.apply
        if lines is None or items is None or write is None:
            return outcome
        links = self.resources.links(item.id_loja)
        only_if_empty = lines.mapping.conflict == "mesclar"

        def with_items(conn: Connection) -> Any:
            record_id = write(conn)
            lines.replace(conn, record_id, items, links, only_if_empty)
            return record_id

        return replace(outcome, apply=with_items)


def _link(
    item: QueueItem, table: EntityTable, external_id: str, owner: bool
) -> Callable[[Connection, int], None]:
    """What ties a written row to the CRM's record: the store's link, and the row's
    external_id column where the store owns the row (and no other row's holds the id)."""

    def link(conn: Connection, record_id: int) -> None:
        syncstate.record_link(conn, item.id_loja, item.entidade, record_id, external_id)
        if owner:
            table.set_external_id(conn, record_id, external_id)

    return link
