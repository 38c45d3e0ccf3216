"""ERP ``produtos`` ↔ GestãoClick ``/produtos`` (natural key: codigo_interno)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crm_cli.providers.brazil import decimal_or_none, flag, money, text, text_or_none

_PLAIN = ("nome", "codigo_interno", "codigo_barra", "descricao")
_MEASURES = ("largura", "altura", "comprimento")
_FISCAL = ("ncm", "peso_liquido", "peso_bruto")


def to_external(row: Mapping[str, Any]) -> dict[str, Any]:
    record: dict[str, Any] = {key: text(row.get(key)) for key in _PLAIN}
    record.update({key: text(row.get(key)) for key in _MEASURES})
    # POST takes the fiscal fields flat (the answer nests them under "fiscal")
    record.update({key: text(row.get(key)) for key in _FISCAL})
    estoque = decimal_or_none(row.get("estoque"))
    record.update(
        valor_custo=money(row.get("valor_custo")) or "0.00",
        valor_venda=money(row.get("valor_venda")),
        estoque=float(estoque) if estoque is not None else 0,
        ativo=flag(row.get("ativo")),
    )
    return record


def to_internal(record: Mapping[str, Any]) -> dict[str, Any]:
    fiscal = record.get("fiscal") if isinstance(record.get("fiscal"), Mapping) else {}
    row: dict[str, Any] = {key: text_or_none(record.get(key)) for key in _PLAIN}
    row.update({key: decimal_or_none(record.get(key)) for key in _MEASURES})
    row.update(
        ncm=text_or_none(fiscal.get("ncm", record.get("ncm"))),
        peso_liquido=decimal_or_none(fiscal.get("peso_liquido", record.get("peso_liquido"))),
        peso_bruto=decimal_or_none(fiscal.get("peso_bruto", record.get("peso_bruto"))),
        estoque=decimal_or_none(record.get("estoque")),
        valor_custo=decimal_or_none(record.get("valor_custo")),
        valor_venda=decimal_or_none(record.get("valor_venda")),
        ativo=1 if flag(record.get("ativo")) == "1" else 0,
    )
    return row


def lookup_params(row: Mapping[str, Any]) -> dict[str, Any] | None:
    code = text(row.get("codigo_interno")).strip()
    return {"codigo": code} if code else None


def matches(record: Mapping[str, Any], row: Mapping[str, Any]) -> bool:
    code = text(row.get("codigo_interno")).strip()
    return bool(code) and text(record.get("codigo_interno")).strip() == code
