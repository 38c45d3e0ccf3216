"""ERP ``produtos`` ↔ Pipedrive products (natural key: code, via the products search)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crm_cli.providers.brazil import decimal_or_none, text, text_or_none


def to_external(row: Mapping[str, Any]) -> dict[str, Any]:
    price = decimal_or_none(row.get("valor_venda"))
    cost = decimal_or_none(row.get("valor_custo"))
    return {
        "name": text(row.get("nome")),
        "code": text(row.get("codigo_interno")),
        "description": text(row.get("descricao")),
        "prices": [{"currency": "BRL", "price": float(price or 0), "cost": float(cost or 0)}],
    }


def to_internal(record: Mapping[str, Any]) -> dict[str, Any]:
    prices = record.get("prices") if isinstance(record.get("prices"), list) else []
    brl = next((p for p in prices if isinstance(p, Mapping) and p.get("currency") == "BRL"), {})
    return {
        "nome": text_or_none(record.get("name")),
        "codigo_interno": text_or_none(record.get("code")),
        "descricao": text_or_none(record.get("description")),
        "valor_venda": decimal_or_none(brl.get("price")),
        "valor_custo": decimal_or_none(brl.get("cost")),
    }


def lookup_params(row: Mapping[str, Any]) -> dict[str, Any] | None:
    code = text(row.get("codigo_interno")).strip()
    return {"term": code, "fields": "code", "exact_match": "true"} if code else None


def matches(record: Mapping[str, Any], row: Mapping[str, Any]) -> bool:
    code = text(row.get("codigo_interno")).strip()
    return bool(code) and text(record.get("code")).strip() == code
