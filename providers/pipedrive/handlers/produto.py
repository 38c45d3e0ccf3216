"""ERP ``produtos`` ↔ Pipedrive products (natural key: code, via the products search)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crm_cli.providers.brazil import decimal_or_none, text, text_or_none
from crm_cli.providers.fields import sent


def to_external(row: Mapping[str, Any]) -> dict[str, Any]:
    price = decimal_or_none(row.get("valor_venda"))
    cost = decimal_or_none(row.get("valor_custo"))
    return {
        "name": text(row.get("nome")),
        "code": text(row.get("codigo_interno")),
        "description": text(row.get("descricao")),
        "prices": [{"currency": "BRL", "price": float(price or 0), "cost": float(cost or 0)}],
    }


_FIELDS = (
    ("nome", "name", text_or_none),
    ("codigo_interno", "code", text_or_none),
    ("descricao", "description", text_or_none),
)


def to_internal(record: Mapping[str, Any]) -> dict[str, Any]:
    """The ERP's columns for what the product holds (a key it lacks is left out)."""
    row = sent(record, _FIELDS)
    prices = record.get("prices")
    if isinstance(prices, list):
        brl = next(
            (p for p in prices if isinstance(p, Mapping) and p.get("currency") == "BRL"), None
        )
        if brl is not None:
            row.update(sent(brl, (("valor_venda", "price", decimal_or_none),)))
            row.update(sent(brl, (("valor_custo", "cost", decimal_or_none),)))
    return row


def lookup_params(row: Mapping[str, Any]) -> dict[str, Any] | None:
    code = text(row.get("codigo_interno")).strip()
    return {"term": code, "fields": "code", "exact_match": "true"} if code else None


def matches(record: Mapping[str, Any], row: Mapping[str, Any]) -> bool:
    code = text(row.get("codigo_interno")).strip()
    return bool(code) and text(record.get("code")).strip() == code


def is_deleted(record: Mapping[str, Any]) -> bool:
    """v2's ``is_deleted``: deleted, kept 30 days before it is gone."""
    return record.get("is_deleted") is True
