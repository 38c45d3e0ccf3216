"""A record's line items (a sale's ``vendas_itens``), read with it and sent with it.

Handlers get them under ``row["itens"]``, each item carrying its product's CRM id
for the store (``produto_external_id``, the store's link: ``crm_cli.engine.links``):
the CRM knows products only by its own ids. An item whose product has no CRM id
yet makes the record wait (``WaitingFor``) rather than reach the CRM without it.

Coming back (CRM → ERP), the CRM's items replace the record's: their products
found again by the store's links. Items the same as the ERP's (on what the CRM
sent) are left as they are, rows and ids untouched. Replaced, the record's sum
of its items (``vendas.valor_produtos``) is worked out again in the same
statement's transaction, as the PHP sale screen does.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from crm_cli.engine.entities import EntityTable
from crm_cli.engine.links import StoreLinks
from crm_cli.errors import CannotSucceed, EntityUnavailable, WaitingFor
from crm_cli.settings import EntityMapping

LINE_ITEMS = "itens"  # the key of a row's line items, as handlers read them
PRODUCT_EXTERNAL_ID = "produto_external_id"  # each item's product, by its CRM id


class LineItems:
    """The line-item table of one entity, joined to the products it names."""

    def __init__(self, database: Engine, mapping: EntityMapping, products: EntityTable) -> None:
        self.mapping = mapping
        try:
            self.table = sa.Table(
                str(mapping.items_table), sa.MetaData(), autoload_with=database, resolve_fks=False
            )
        except sa.exc.NoSuchTableError:
            # this entity's items wait (a sale without its items would be a wrong sale);
            # every other entity and store goes on
            raise EntityUnavailable(
                f"table '{mapping.items_table}' (entities.{mapping.name}.items_table) does not "
                f"exist: create it, or set entities.{mapping.name}.items_table: null to send "
                f"{mapping.name} records without line items",
                mapping.name,
                "line-item table missing",
            ) from None
        for role in ("items_parent_key", "items_product_key"):
            column = getattr(mapping, role)
            if column not in self.table.c:
                raise EntityUnavailable(
                    f"table '{mapping.items_table}' has no column '{column}' "
                    f"(entities.{mapping.name}.{role})",
                    mapping.name,
                    "line-item table unusable",
                )
        self.products = products
        self._sum = self._sum_statement(database) if mapping.items_sum else None
        self.parent = self.table.c[str(mapping.items_parent_key)]
        self.product = self.table.c[str(mapping.items_product_key)]
        order = [c for c in self.table.primary_key.columns] or [self.product]
        self._select = (
            sa.select(self.table)
            .where(self.parent.in_(sa.bindparam("p_ids", expanding=True)))
            .order_by(self.parent, *order)
        )

    def _sum_statement(self, database: Engine) -> sa.Update:
        """``UPDATE record SET items_sum = (SELECT SUM(items_total) FROM items …)``."""
        mapping = self.mapping
        parent = sa.Table(mapping.table, sa.MetaData(), autoload_with=database, resolve_fks=False)
        for table, role in ((parent, "items_sum"), (self.table, "items_total")):
            if getattr(mapping, role) not in table.c:
                raise EntityUnavailable(
                    f"table '{table.name}' has no column '{getattr(mapping, role)}' "
                    f"(entities.{mapping.name}.{role}; null: leave the record's sum alone)",
                    mapping.name,
                    "line-item table unusable",
                )
        items_total = self.table.c[str(mapping.items_total)]
        own = self.table.c[str(mapping.items_parent_key)] == parent.c[mapping.primary_key]
        total = sa.select(sa.func.coalesce(sa.func.sum(items_total), 0)).where(own)
        return (
            sa.update(parent)
            .where(parent.c[mapping.primary_key] == sa.bindparam("record_id"))
            .values({str(mapping.items_sum): total.scalar_subquery()})
        )

    def load(
        self, conn: Connection, parent_ids: Sequence[Any], links: StoreLinks
    ) -> dict[Any, list[dict]]:
        """Each record's items, by record id (a record without items maps to []), each
        with its product's CRM id for the store."""
        found: dict[Any, list[dict]] = {each: [] for each in parent_ids}
        if not parent_ids:
            return found
        items = [
            dict(row._mapping) for row in conn.execute(self._select, {"p_ids": list(parent_ids)})
        ]
        crm_ids = links.crm_ids(conn, self.products, {item[self.product.name] for item in items})
        for item in items:
            item[PRODUCT_EXTERNAL_ID] = crm_ids.get(item[self.product.name])
            found.setdefault(item[self.parent.name], []).append(item)
        return found

    def replace(
        self,
        conn: Connection,
        record_id: Any,
        incoming: list[dict],
        links: StoreLinks,
        only_if_empty: bool = False,
    ) -> None:
        """Make the record's items the CRM's ``incoming`` ones, unless they already are.

        ``only_if_empty``: the ``mesclar`` strategy, which fills only what the ERP lacks.
        """
        current = self.load(conn, [record_id], links)[record_id]
        if only_if_empty and current:
            return
        rows = self._rows(conn, record_id, incoming, links)
        if same_lines(current, rows):
            return
        conn.execute(sa.delete(self.table).where(self.parent == record_id))
        if rows:
            conn.execute(sa.insert(self.table), rows)
        if self._sum is not None:
            conn.execute(self._sum, {"record_id": record_id})

    def _rows(
        self, conn: Connection, record_id: Any, incoming: list[dict], links: StoreLinks
    ) -> list[dict]:
        """The item rows to write: the CRM's values for the table's columns, each
        product by the ``produtos`` row the store links to its CRM id (None when none)."""
        found = self._product_ids(conn, [i.get(PRODUCT_EXTERNAL_ID) for i in incoming], links)
        keys = {k for item in incoming for k in item if k in self.table.c}
        keys -= {self.parent.name, self.product.name, *self.table.primary_key.columns.keys()}
        return [
            {
                **{key: item.get(key) for key in keys},
                self.parent.name: record_id,
                self.product.name: found.get(str(item.get(PRODUCT_EXTERNAL_ID))),
            }
            for item in incoming
        ]

    def _product_ids(
        self, conn: Connection, crm_ids: list[Any], links: StoreLinks
    ) -> dict[str, Any]:
        """produtos ids by the store's CRM ids for them (one each: the first linked)."""
        found = {}
        for crm_id in sorted({str(each) for each in crm_ids if each}):
            rows = links.erp_ids(conn, self.products, crm_id)
            if rows:
                found[crm_id] = rows[0]
        return found

    def unsynced_products(self, items: list[dict]) -> list[Any]:
        """The ids of the products these items name that have no CRM id yet.

        An item naming no product at all can never be sent: CannotSucceed.
        """
        waiting = []
        for item in items:
            if item[PRODUCT_EXTERNAL_ID]:
                continue
            product_id = item.get(self.product.name)
            if product_id is None:
                raise CannotSucceed(
                    f"line item {_key_text(self.table, item)} of {self.mapping.name} "
                    f"{item[self.parent.name]} names no product ({self.product.name} is empty)"
                )
            waiting.append(product_id)
        return waiting

    def waiting_for(self, conn: Connection, record_id: Any, product_ids: list[Any]) -> WaitingFor:
        """The record waits for its products to reach the CRM first (they are queued);
        CannotSucceed when one never can: its row is gone, or deleted and never sent."""
        rows = self.products.load_many(conn, list(product_ids))
        missing = [str(each) for each in product_ids if each not in rows]
        deleted = [
            str(each)
            for each in product_ids
            if each in rows and self.products.is_deleted(rows[each])
        ]
        if missing or deleted:
            table = self.products.mapping.table
            why = "; ".join(
                part
                for part in (
                    f"product(s) {', '.join(missing)} not in {table}" if missing else "",
                    f"product(s) {', '.join(deleted)} deleted in {table} and never sent to the CRM"
                    if deleted
                    else "",
                )
                if part
            )
            raise CannotSucceed(
                f"{self.mapping.name} {record_id} can never be sent: its line items name {why} "
                f"(fix the items in {self.mapping.items_table}, then 'crm-cli queue retry')"
            )
        names = ", ".join(str(each) for each in product_ids)
        return WaitingFor(
            f"{self.mapping.name} {record_id} waits for product(s) {names}: not in the CRM yet "
            "(queued to be sent first)",
            needs=[("produto", int(each)) for each in product_ids],
        )


def _key_text(table: sa.Table, item: dict) -> str:
    keys = [str(item.get(c.name)) for c in table.primary_key.columns]
    return "/".join(keys) or "?"


def same_lines(current: list[dict], incoming: list[dict]) -> bool:
    """Whether the ERP's ``current`` items are the ``incoming`` ones, compared in order
    on the columns ``incoming`` carries: empty and zero are the same (a CRM may send
    0 for a discount the ERP left NULL), and so are 2, "2" and 2.000."""
    columns = sorted({key for row in incoming for key in row})

    def lines(items: list[dict]) -> list[tuple]:
        return [tuple(_plain(item.get(c)) for c in columns) for item in items]

    return lines(current) == lines(incoming)


def _plain(value: Any) -> Any:
    if value is None or value == "":
        return ""
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal, str)):
        return str(value)
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    return "" if number == 0 else number.normalize()
