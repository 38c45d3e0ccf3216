"""ERP ``vendas`` ↔ Pipedrive deals, titled "Venda <codigo>" (natural key: that title).

The sale's items become the deal's products (``_products``; the client
attaches them through ``/api/v2/deals/{id}/products``, the official v2 SDK's
DealProductRequestBody: ``product_id``, ``item_price``, ``quantity`` required,
numbers; ``discount`` with ``discount_type`` ``amount``). Reading a deal, the
client hands its attached products over as ``products``.

The money. Pipedrive works a deal's value out itself once it has products:
their sums (price × quantity − discount) less the deal's discounts (OpenAPI v2,
``/deals/{id}/discounts``: "changing the deal value if the deal has one-time
products attached"); a ``value`` sent beside products does not count. So:
- each item goes with the discount that makes its sum the ERP's item total
  (``vendas_itens.valor_total``, which the ERP rounds to cents);
- freight, which a deal cannot hold, goes as a product line of the store's
  freight product (``_freight``: the client adds it, ``configuracoes.freight_product_id``);
- the sale's discount goes as one deal discount, an amount (``_discount``):
  whatever lies between the products' sums and freight and the ERP's
  ``valor_total``.
The deal is then worth the ERP's total. Read back, the deal's value is the
sale's total, its freight line the sale's freight, and the difference between
its products and its value the sale's discount: the ERP's figures add up as its
sale screen computes them, to the same total. A sale without items goes with its
total as the deal's ``value`` (and none of its products or discounts).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from crm_cli.providers.brazil import (
    date_or_none,
    date_text,
    decimal_or_none,
    digits,
    text,
    text_or_none,
)
from crm_cli.providers.fields import SELLER
from crm_cli.providers.sales import discount_to_total

PREFIX = "Venda "
ITEMS = "itens"  # the row's line items (crm_cli.engine.line_items)
FREIGHT = "_freight"  # the sale's freight: the client sends it as a product line
DISCOUNT = "_discount"  # the sale's discount: the client sends it as a deal discount
CENT = Decimal("0.01")
# on_delete: deactivate archives the deal (OpenAPI v2: updateDeal ``is_archived``)
INACTIVE: dict[str, Any] = {"is_archived": True}


def _title(row: Mapping[str, Any]) -> str:
    return f"{PREFIX}{text(row.get('codigo')).strip()}"


def to_external(row: Mapping[str, Any]) -> dict[str, Any]:
    record = _sale(row)
    if row.get("vendedor_id") not in (None, ""):  # the client sends the CRM's user for it
        record[SELLER] = row["vendedor_id"]
    return record


def _sale(row: Mapping[str, Any]) -> dict[str, Any]:
    total = decimal_or_none(row.get("valor_total")) or Decimal(0)
    record: dict[str, Any] = {
        "title": _title(row),
        "currency": "BRL",
        "status": "won",  # an ERP sale is a closed deal
    }
    person = digits(row.get("cliente_external_id"))
    if person:
        record["person_id"] = int(person)
    if row.get("data_venda"):
        record["expected_close_date"] = date_text(row.get("data_venda"))
    items = row.get(ITEMS)
    if not items:  # a deal without products keeps the value it is given
        record["value"] = float(total)
        if items is not None:
            record["_products"] = []
        return record
    freight = decimal_or_none(row.get("valor_frete")) or Decimal(0)
    goods = sum((_sum(item) for item in items), Decimal(0))
    discount = discount_to_total(
        goods, freight, total, "Pipedrive works a deal's value out from those"
    )
    record["_products"] = [_product(item) for item in items]
    record[FREIGHT] = float(freight)
    record[DISCOUNT] = float(discount)
    return record


def _decimal(value: Any) -> Decimal:
    return decimal_or_none(value) or Decimal(0)


def _line_total(item: Mapping[str, Any]) -> Decimal:
    """The item's total as the ERP holds it (else quantity × price − discount, in cents)."""
    total = decimal_or_none(item.get("valor_total"))
    if total is not None:
        return total
    gross = _decimal(item.get("quantidade")) * _decimal(item.get("valor_venda"))
    return (gross - _decimal(item.get("desconto_valor"))).quantize(CENT)


def _discount(item: Mapping[str, Any]) -> Decimal:
    gross = _decimal(item.get("quantidade")) * _decimal(item.get("valor_venda"))
    return max(gross - _line_total(item), Decimal(0))


def _sum(item: Mapping[str, Any]) -> Decimal:
    """The deal product's sum as Pipedrive works it out: quantity × price − discount."""
    return _decimal(item.get("quantidade")) * _decimal(item.get("valor_venda")) - _discount(item)


def _product(item: Mapping[str, Any]) -> dict[str, Any]:
    """A deal product whose sum is the item's total: its discount is what lies between
    quantity × price and that total (the ERP's discount, and its rounding down). A
    total the ERP rounded up (0.333 × 9.99 = 3.32667 → 3.33) goes without one: a
    discount is never negative, and the deal's discount, worked out from the sums
    Pipedrive computes, makes up the fraction."""
    quantity, price = _decimal(item.get("quantidade")), _decimal(item.get("valor_venda"))
    return {
        "product_id": int(digits(item.get("produto_external_id")) or 0),
        "item_price": float(price),
        "quantity": float(quantity),
        "discount": float(_discount(item)),
        "discount_type": "amount",
    }


def _cents(value: Any) -> Decimal | None:
    number = decimal_or_none(value)
    return number.quantize(CENT) if number is not None else None


def _line(product: Mapping[str, Any]) -> dict[str, Any]:
    quantity, price = (
        decimal_or_none(product.get("quantity")),
        decimal_or_none(product.get("item_price")),
    )
    total = _cents(product.get("sum"))
    discount = max((quantity or 0) * (price or 0) - (total or 0), Decimal(0))
    return {
        "produto_external_id": text_or_none(product.get("product_id")),
        "quantidade": quantity,
        "valor_venda": price,
        "desconto_valor": discount.quantize(CENT) if total is not None else None,
        "valor_total": total,
    }


def to_internal(record: Mapping[str, Any]) -> dict[str, Any]:
    row = _fields(record)
    if SELLER in record:  # the CRM's user, as the client found the ERP's seller for it
        row["vendedor_id"] = record[SELLER]
    return row


def _fields(record: Mapping[str, Any]) -> dict[str, Any]:
    """The ERP's columns for what the deal holds (a key it lacks is left out)."""
    row: dict[str, Any] = {}
    if "title" in record:
        title = text(record.get("title"))
        row["codigo"] = title[len(PREFIX) :] if title.startswith(PREFIX) else title or None
    if "value" in record:  # Pipedrive's own: products − discounts, when it has products
        row["valor_total"] = _cents(record.get("value"))
    if "person_id" in record:
        person = record.get("person_id")
        row["cliente_external_id"] = str(person) if person not in (None, "") else None
    if "expected_close_date" in record:
        row["data_venda"] = date_or_none(record.get("expected_close_date"))
    if isinstance(record.get("products"), list):
        products = [p for p in record["products"] if isinstance(p, Mapping)]
        row[ITEMS] = [_line(p) for p in products]
        freight = _decimal(record.get(FREIGHT))
        row["valor_frete"] = freight.quantize(CENT)
        if "value" in record:
            goods = sum((_cents(p.get("sum")) or Decimal(0) for p in products), Decimal(0))
            row["desconto_valor"] = (goods + freight - _decimal(record["value"])).quantize(CENT)
    return row


def lookup_params(row: Mapping[str, Any]) -> dict[str, Any] | None:
    if not text(row.get("codigo")).strip():
        return None
    return {"term": _title(row), "fields": "title", "exact_match": "true"}


def matches(record: Mapping[str, Any], row: Mapping[str, Any]) -> bool:
    return bool(text(row.get("codigo")).strip()) and text(record.get("title")) == _title(row)


def is_deleted(record: Mapping[str, Any]) -> bool:
    """v2's ``is_deleted``: deleted, kept 30 days before it is gone."""
    return record.get("is_deleted") is True
