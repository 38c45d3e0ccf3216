"""Which CRM record an ERP row is, for a store: its link.

A link is ``crm_sync_state``'s external_id for (store, entity, ERP id): written
when a store creates, adopts or receives a record, read before anything is sent
to the CRM or written back to the ERP. A store reads the links of the stores on
its CRM account (``Ownership.group``) — they share records — and never another
account's. Where it owns a row (``Ownership.owns``), the ERP's external_id
column counts too: a link the PHP application, or crm-cli before links, made.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from crm_cli.db.schema import crm_sync_state
from crm_cli.engine.entities import EntityTable
from crm_cli.engine.ownership import Ownership, ambiguity_message
from crm_cli.errors import OwnerUnsettled

_state = crm_sync_state.c


def linked_crm_ids(
    conn: Connection, stores: Sequence[int], entidade: str, ids: Iterable[Any]
) -> dict[Any, str]:
    """The CRM id each ERP row has among ``stores``' links (the first store's wins)."""
    wanted = sorted({each for each in ids if each is not None})
    if not wanted:
        return {}
    rows = conn.execute(
        sa.select(_state.id_loja, _state.id_registro, _state.external_id).where(
            _state.id_loja.in_(list(stores)),
            _state.entidade == entidade,
            _state.id_registro.in_(wanted),
            _state.external_id.is_not(None),
        )
    ).all()
    rank = {store: position for position, store in enumerate(stores)}
    found: dict[Any, tuple[int, str]] = {}
    for loja, registro, external_id in rows:
        if registro not in found or rank[loja] < found[registro][0]:
            found[registro] = (rank[loja], str(external_id))
    return {registro: external_id for registro, (_rank, external_id) in found.items()}


def linked_erp_ids(
    conn: Connection, stores: Sequence[int], entidade: str, external_ids: Iterable[str]
) -> dict[str, set[int]]:
    """The ERP rows ``stores`` have linked to each CRM id (two or more: rows that
    claim one record)."""
    wanted = sorted({str(each) for each in external_ids if each})
    if not wanted:
        return {}
    rows = conn.execute(
        sa.select(_state.external_id, _state.id_registro).where(
            _state.id_loja.in_(list(stores)),
            _state.entidade == entidade,
            _state.external_id.in_(wanted),
        )
    ).all()
    found: dict[str, set[int]] = {}
    for external_id, registro in rows:
        found.setdefault(str(external_id), set()).add(registro)
    return found


@dataclass(frozen=True)
class StoreLinks:
    """One store's links, with the ERP column where the store owns the row."""

    ownership: Ownership
    id_loja: int

    @property
    def stores(self) -> tuple[int, ...]:
        return self.ownership.group(self.id_loja)

    def owns(self, table: EntityTable, row: dict[str, Any]) -> bool:
        return self.ownership.owns(self.id_loja, table.mapping, row)

    def settled(self, table: EntityTable) -> None:
        """OwnerUnsettled when stores on several accounts share the table's rows and the
        configuration names no owner: the store's items of that entity wait for it."""
        if self.ownership.ambiguous(table.mapping):
            raise OwnerUnsettled(
                ambiguity_message(table.mapping, self.ownership.accounts()),
                table.mapping.name,
            )

    def crm_ids(
        self, conn: Connection, table: EntityTable, ids: Iterable[Any], rows: dict | None = None
    ) -> dict[Any, str]:
        """Each ERP row's CRM id for this store: its link, else its external_id column
        where this store owns the row (``rows``: the rows, when already read)."""
        ids = [each for each in ids if each is not None]
        found = linked_crm_ids(conn, self.stores, table.mapping.name, ids)
        missing = [each for each in ids if each not in found]
        if missing:
            known = rows if rows is not None else table.load_many(conn, missing)
            for each in missing:
                row = known.get(each)
                column = row.get(table.mapping.external_id) if row else None
                if column and self.owns(table, row):
                    found[each] = str(column)
        return found

    def erp_ids(self, conn: Connection, table: EntityTable, external_id: str) -> list[int]:
        """The ERP rows that are the CRM's record ``external_id`` for this store."""
        linked = linked_erp_ids(conn, self.stores, table.mapping.name, [external_id])
        if external_id in linked:
            return sorted(linked[external_id])
        return [
            row[table.mapping.primary_key]
            for row in table.find_all_by_external_id(conn, external_id)
            if self.owns(table, row)
        ]
