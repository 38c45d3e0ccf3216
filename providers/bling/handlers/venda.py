"""ERP ``vendas`` ↔ Bling ``/pedidos/vendas`` (natural key: numero = the sale's codigo).

The customer is sent by its Bling id (``cliente_external_id``); items
(``vendas_itens``) are not sent yet.
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


def _int(value: Any) -> int | None:
    d = digits(value)
    return int(d) if d else None


def to_external(row: Mapping[str, Any]) -> dict[str, Any]:
    total = decimal_or_none(row.get("valor_total"))
    return {
        "numero": _int(row.get("codigo")),
        "data": date_text(row.get("data_venda")),
        "dataSaida": date_text(row.get("data_venda")),
        "contato": {"id": _int(row.get("cliente_external_id"))},
        "total": float(total) if total is not None else None,
        "observacoes": text(row.get("observacoes")),
        "itens": [],
    }


def to_internal(record: Mapping[str, Any]) -> dict[str, Any]:
    contact = record.get("contato") if isinstance(record.get("contato"), Mapping) else {}
    return {
        "codigo": text_or_none(record.get("numero")),
        "data_venda": date_or_none(record.get("data")),
        "cliente_external_id": text_or_none(contact.get("id")),
        "valor_total": decimal_or_none(record.get("total")),
        "observacoes": text_or_none(record.get("observacoes")),
    }


def lookup_params(row: Mapping[str, Any]) -> dict[str, Any] | None:
    number = _int(row.get("codigo"))
    return {"numero": number} if number is not None else None


def matches(record: Mapping[str, Any], row: Mapping[str, Any]) -> bool:
    number = _int(row.get("codigo"))
    return number is not None and _int(record.get("numero")) == number
