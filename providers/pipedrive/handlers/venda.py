"""ERP ``vendas`` ↔ Pipedrive deals, titled "Venda <codigo>" (natural key: that title).

The sale's items become the deal's products (``_products``; the client
attaches them through ``/api/v2/deals/{id}/products``, the official v2 SDK's
DealProductRequestBody: ``product_id``, ``item_price``, ``quantity`` required,
numbers; ``discount`` with ``discount_type`` ``amount``). Reading a deal, the
client hands its attached products over as ``products``.
"""

from __future__ import annotations

from collections.abc import Mapping
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

PREFIX = "Venda "
ITEMS = "itens"  # the row's line items (crm_cli.engine.line_items)


def _title(row: Mapping[str, Any]) -> str:
    return f"{PREFIX}{text(row.get('codigo')).strip()}"


def to_external(row: Mapping[str, Any]) -> dict[str, Any]:
    record = _sale(row)
    if row.get("vendedor_id") not in (None, ""):  # the client sends the CRM's user for it
        record[SELLER] = row["vendedor_id"]
    return record


def _sale(row: Mapping[str, Any]) -> dict[str, Any]:
    total = decimal_or_none(row.get("valor_total"))
    record: dict[str, Any] = {
        "title": _title(row),
        "value": float(total) if total is not None else 0.0,
        "currency": "BRL",
        "status": "won",  # an ERP sale is a closed deal
    }
    person = digits(row.get("cliente_external_id"))
    if person:
        record["person_id"] = int(person)
    if row.get("data_venda"):
        record["expected_close_date"] = date_text(row.get("data_venda"))
    if ITEMS in row:
        record["_products"] = [_product(item) for item in row[ITEMS]]
    return record


def _number(value: Any) -> float:
    return float(decimal_or_none(value) or 0)


def _product(item: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "product_id": int(digits(item.get("produto_external_id")) or 0),
        "item_price": _number(item.get("valor_venda")),
        "quantity": _number(item.get("quantidade")),
        "discount": _number(item.get("desconto_valor")),
        "discount_type": "amount",
    }


def _line(product: Mapping[str, Any]) -> dict[str, Any]:
    discount = (
        decimal_or_none(product.get("discount"))
        if product.get("discount_type") == "amount"
        else None
    )
    return {
        "produto_external_id": text_or_none(product.get("product_id")),
        "quantidade": decimal_or_none(product.get("quantity")),
        "valor_venda": decimal_or_none(product.get("item_price")),
        "desconto_valor": discount,
        "valor_total": decimal_or_none(product.get("sum")),
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
    if "value" in record:
        row["valor_total"] = decimal_or_none(record.get("value"))
    if "person_id" in record:
        person = record.get("person_id")
        row["cliente_external_id"] = str(person) if person not in (None, "") else None
    if "expected_close_date" in record:
        row["data_venda"] = date_or_none(record.get("expected_close_date"))
    if isinstance(record.get("products"), list):
        row[ITEMS] = [_line(p) for p in record["products"] if isinstance(p, Mapping)]
    return row


def lookup_params(row: Mapping[str, Any]) -> dict[str, Any] | None:
    if not text(row.get("codigo")).strip():
        return None
    return {"term": _title(row), "fields": "title", "exact_match": "true"}


def matches(record: Mapping[str, Any], row: Mapping[str, Any]) -> bool:
    return bool(text(row.get("codigo")).strip()) and text(record.get("title")) == _title(row)
