"""ERP ``produtos`` ↔ Bling ``/produtos`` (natural key: codigo)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crm_cli.providers.brazil import decimal_or_none, flag, text, text_or_none


def _number(value: Any) -> float | None:
    number = decimal_or_none(value)
    return float(number) if number is not None else None


def to_external(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "nome": text(row.get("nome")),
        "codigo": text(row.get("codigo_interno")),
        "tipo": "P",
        "formato": "S",
        "situacao": "A" if flag(row.get("ativo")) == "1" else "I",
        "preco": _number(row.get("valor_venda")) or 0.0,
        "precoCusto": _number(row.get("valor_custo")) or 0.0,
        "descricaoCurta": text(row.get("descricao")),
        "gtin": text(row.get("codigo_barra")),
        "pesoLiquido": _number(row.get("peso_liquido")),
        "pesoBruto": _number(row.get("peso_bruto")),
        "dimensoes": {
            "largura": _number(row.get("largura")),
            "altura": _number(row.get("altura")),
            "profundidade": _number(row.get("comprimento")),
            "unidadeMedida": 1,
        },
        "tributacao": {"ncm": text(row.get("ncm"))},
    }


def to_internal(record: Mapping[str, Any]) -> dict[str, Any]:
    dims = record.get("dimensoes") if isinstance(record.get("dimensoes"), Mapping) else {}
    tax = record.get("tributacao") if isinstance(record.get("tributacao"), Mapping) else {}
    stock = record.get("estoque") if isinstance(record.get("estoque"), Mapping) else {}
    return {
        "nome": text_or_none(record.get("nome")),
        "codigo_interno": text_or_none(record.get("codigo")),
        "codigo_barra": text_or_none(record.get("gtin")),
        "descricao": text_or_none(record.get("descricaoCurta")),
        "valor_venda": decimal_or_none(record.get("preco")),
        "valor_custo": decimal_or_none(record.get("precoCusto")),
        "peso_liquido": decimal_or_none(record.get("pesoLiquido")),
        "peso_bruto": decimal_or_none(record.get("pesoBruto")),
        "largura": decimal_or_none(dims.get("largura")),
        "altura": decimal_or_none(dims.get("altura")),
        "comprimento": decimal_or_none(dims.get("profundidade")),
        "ncm": text_or_none(tax.get("ncm")),
        "estoque": decimal_or_none(stock.get("saldoVirtualTotal")),
        "ativo": 0 if record.get("situacao") == "I" else 1,
    }


def lookup_params(row: Mapping[str, Any]) -> dict[str, Any] | None:
    code = text(row.get("codigo_interno")).strip()
    return {"codigo": code} if code else None


def matches(record: Mapping[str, Any], row: Mapping[str, Any]) -> bool:
    code = text(row.get("codigo_interno")).strip()
    return bool(code) and text(record.get("codigo")).strip() == code
