"""CRM → ERP: a CRM record fetched (or handed over by ``import``) and written into the ERP."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy.engine import Connection, Engine

from crm_cli.engine.entities import EntityTable
from crm_cli.engine.line_items import LINE_ITEMS, LineItems
from crm_cli.engine.outcome import Outcome
from crm_cli.engine.queue import QueueItem
from crm_cli.engine.to_crm import Resources
from crm_cli.errors import CannotSucceed, RecordNotFound
from crm_cli.states import OutcomeKind


class ToErp:
    """The CRM→ERP path of an item."""

    def __init__(self, database: Engine, resources: Resources) -> None:
        self.database = database
        self.resources = resources  # each item's client, table and line items

    def process(self, item: QueueItem) -> Outcome:
        table = self.resources.table(item.entidade)
        client = self.resources.client(item.id_loja)
        client.entity(item.entidade)  # an unsupported entity fails before any request
        with self.database.connect() as conn:
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
        table = self.resources.table(item.entidade)
        client = self.resources.client(item.id_loja)
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

        outcome = Outcome(
            OutcomeKind.COMPLETED,
            f"inserted locally from the CRM's {item.entidade} {external_id}",
            received=record,
            external_id=external_id,
            apply=insert,
        )
        return _with_line_items(outcome, self.resources.line_items(item.entidade), values)

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
        outcome = Outcome(
            OutcomeKind.COMPLETED, message, received=record, external_id=external_id, apply=update
        )
        # the items as the strategy decided: none when it kept the ERP's values
        return _with_line_items(outcome, self.resources.line_items(item.entidade), changes)


def _with_line_items(outcome: Outcome, lines: LineItems | None, written: dict) -> Outcome:
    """The CRM's line items in ``written`` (the values the record gets) replace the
    record's, in the same transaction as the record itself."""
    items = written.get(LINE_ITEMS)
    write = outcome.apply
    if lines is None or items is None or write is None:
        return outcome
    only_if_empty = lines.mapping.conflict == "mesclar"

    def with_items(conn: Connection) -> Any:
        record_id = write(conn)
        lines.replace(conn, record_id, items, only_if_empty)
        return record_id

    return replace(outcome, apply=with_items)
