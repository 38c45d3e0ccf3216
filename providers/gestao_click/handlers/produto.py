"""ERP ``produtos`` ↔ GestãoClick ``/produtos`` (natural key: codigo_interno)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crm_cli.providers.brazil import decimal_or_none, flag, money, text, text_or_none
from crm_cli.providers.fields import active, sent

# on_delete: deactivate sends the row with ativo 0 (its "ativo" field): nothing more
INACTIVE: dict[str, Any] = {}

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


_FIELDS = (
    *((key, key, text_or_none) for key in _PLAIN),
    *((key, key, decimal_or_none) for key in _MEASURES),
    ("estoque", "estoque", decimal_or_none),
    ("valor_custo", "valor_custo", decimal_or_none),
    ("valor_venda", "valor_venda", decimal_or_none),
    ("ativo", "ativo", active),
)
_FISCAL_FIELDS = (
    ("ncm", "ncm", text_or_none),
    ("peso_liquido", "peso_liquido", decimal_or_none),
    ("peso_bruto", "peso_bruto", decimal_or_none),
)


def to_internal(record: Mapping[str, Any]) -> dict[str, Any]:
    """The ERP's columns for what the record holds (a key it lacks is left out).

    Answers nest the fiscal fields under ``fiscal``; a flat one is read too.
    """
    row = sent(record, _FIELDS)
    row.update(sent(record, _FISCAL_FIELDS))
    fiscal = record.get("fiscal")
    if isinstance(fiscal, Mapping):
        row.update(sent(fiscal, _FISCAL_FIELDS))
    return row


def lookup_params(row: Mapping[str, Any]) -> dict[str, Any] | None:
    code = text(row.get("codigo_interno")).strip()
    return {"codigo": code} if code else None


def matches(record: Mapping[str, Any], row: Mapping[str, Any]) -> bool:
    code = text(row.get("codigo_interno")).strip()
    return bool(code) and text(record.get("codigo_interno")).strip() == code
