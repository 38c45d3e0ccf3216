"""ERP ``vendas`` ↔ GestãoClick ``/vendas`` (natural key: codigo).

The sale's client and seller are sent by their CRM ids (the ERP keeps them in
``cliente_external_id`` / ``vendedor_external_id``); ``situacao_venda_id`` is
sent as is: GestãoClick's situation ids are per account (read /situacoes_vendas).
Sale items (``vendas_itens``) are not sent yet.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crm_cli.providers.brazil import (
    date_or_none,
    date_text,
    decimal_or_none,
    money,
    text,
    text_or_none,
)


def to_external(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "tipo": "produto",
        "codigo": text(row.get("codigo")),
        "cliente_id": text(row.get("cliente_external_id")),
        "vendedor_id": text(row.get("vendedor_external_id")),
        "situacao_id": text(row.get("situacao_venda_id")),
        "nome_situacao": text(row.get("nome_situacao")),
        "data": date_text(row.get("data_venda")),
        "valor_frete": money(row.get("valor_frete")),
        "valor_total": money(row.get("valor_total")),
        "observacoes": text(row.get("observacoes")),
    }


def to_internal(record: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "codigo": text_or_none(record.get("codigo")),
        "cliente_external_id": text_or_none(record.get("cliente_id")),
        "vendedor_external_id": text_or_none(record.get("vendedor_id")),
        "situacao_venda_id": text_or_none(record.get("situacao_id")),
        "nome_situacao": text_or_none(record.get("nome_situacao")),
        "data_venda": date_or_none(record.get("data")),
        "valor_frete": decimal_or_none(record.get("valor_frete")),
        "valor_total": decimal_or_none(record.get("valor_total")),
        "observacoes": text_or_none(record.get("observacoes")),
    }


def lookup_params(row: Mapping[str, Any]) -> dict[str, Any] | None:
    code = text(row.get("codigo")).strip()
    return {"codigo": code} if code else None


def matches(record: Mapping[str, Any], row: Mapping[str, Any]) -> bool:
    code = text(row.get("codigo")).strip()
    return bool(code) and text(record.get("codigo")).strip() == code
