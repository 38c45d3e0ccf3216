"""A record's line items (a sale's ``vendas_itens``), read with it and sent with it.

Handlers get them under ``row["itens"]``, each item carrying the CRM id of its
product as the ``produtos`` row holds it (``produto_external_id``): the CRM
knows products only by its own ids. An item whose product has no CRM id yet
makes the record wait (``WaitingFor``) rather than reach the CRM without it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from crm_cli.engine.entities import EntityTable
from crm_cli.engine.failures import CannotSucceed, WaitingFor
from crm_cli.errors import ConfigError
from crm_cli.settings import EntityMapping

LINE_ITEMS = "itens"  # the key of a row's line items, as handlers read them
PRODUCT_EXTERNAL_ID = "produto_external_id"  # each item's product, by its CRM id


class LineItems:
    """The line-item table of one entity, joined to the products it names."""

    def __init__(self, engine: Engine, mapping: EntityMapping, products: EntityTable) -> None:
        self.mapping = mapping
        try:
            self.table = sa.Table(
                str(mapping.items_table), sa.MetaData(), autoload_with=engine, resolve_fks=False
            )
        except sa.exc.NoSuchTableError:
            raise ConfigError(
                f"table '{mapping.items_table}' (entities.{mapping.name}.items_table) does not "
                f"exist: create it, or set entities.{mapping.name}.items_table: null to send "
                f"{mapping.name} records without line items"
            ) from None
        for role in ("items_parent_key", "items_product_key"):
            column = getattr(mapping, role)
            if column not in self.table.c:
                raise ConfigError(
                    f"table '{mapping.items_table}' has no column '{column}' "
                    f"(entities.{mapping.name}.{role})"
                )
        self.parent = self.table.c[str(mapping.items_parent_key)]
        self.product = self.table.c[str(mapping.items_product_key)]
        order = [c for c in self.table.primary_key.columns] or [self.product]
        self._select = (
            sa.select(self.table, products.external_id.label("_product_crm_id"))
            .select_from(self.table.outerjoin(products.table, products.pk == self.product))
            .where(self.parent.in_(sa.bindparam("p_ids", expanding=True)))
            .order_by(self.parent, *order)
        )

    def load(self, conn: Connection, parent_ids: Sequence[Any]) -> dict[Any, list[dict]]:
        """Each record's items, by record id (a record without items maps to [])."""
        found: dict[Any, list[dict]] = {each: [] for each in parent_ids}
        if not parent_ids:
            return found
        for row in conn.execute(self._select, {"p_ids": list(parent_ids)}):
            item = dict(row._mapping)
            item[PRODUCT_EXTERNAL_ID] = item.pop("_product_crm_id") or None
            found.setdefault(item[self.parent.name], []).append(item)
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

    def waiting_for(self, record_id: Any, product_ids: list[Any]) -> WaitingFor:
        names = ", ".join(str(each) for each in product_ids)
        return WaitingFor(
            f"{self.mapping.name} {record_id} waits for product(s) {names}: not in the CRM yet "
            "(queued to be sent first)",
            needs=[("produto", int(each)) for each in product_ids],
        )


def _key_text(table: sa.Table, item: dict) -> str:
    keys = [str(item.get(c.name)) for c in table.primary_key.columns]
    return "/".join(keys) or "?"
