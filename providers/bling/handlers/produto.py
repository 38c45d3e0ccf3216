"""ERP ``produtos`` ↔ Bling ``/produtos`` (natural key: codigo).

Bling's official OpenAPI (ProdutosDadosBaseDTO) marks ``precoCusto`` read-only:
"Preço de custo do fornecedor padrão do produto", the default supplier's price,
not the product's. It is neither sent (Bling would ignore it) nor read back
(its figure would overwrite the ERP's ``valor_custo`` with another meaning).
A number the ERP leaves empty is left out, never sent as null (the schema's
numbers are not nullable).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crm_cli.providers.brazil import decimal_or_none, flag, text, text_or_none

# on_delete: deactivate sends the row with ativo 0 (situacao "I"): nothing more
INACTIVE: dict[str, Any] = {}


def is_deleted(record: Mapping[str, Any]) -> bool:
    """situacao "E": moved to Bling's deleted records (criterio "Excluídos")."""
    return record.get("situacao") == "E"


def _number(value: Any) -> float | None:
    number = decimal_or_none(value)
    return float(number) if number is not None else None


def _without_empty(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def to_external(row: Mapping[str, Any]) -> dict[str, Any]:
    record = {
        "nome": text(row.get("nome")),
        "codigo": text(row.get("codigo_interno")),
        "tipo": "P",
        "formato": "S",
        "situacao": "A" if flag(row.get("ativo")) == "1" else "I",
        "preco": _number(row.get("valor_venda")) or 0.0,
        "descricaoCurta": text(row.get("descricao")),
        "gtin": text(row.get("codigo_barra")),
        "pesoLiquido": _number(row.get("peso_liquido")),
        "pesoBruto": _number(row.get("peso_bruto")),
        "dimensoes": _without_empty(
            {
                "largura": _number(row.get("largura")),
                "altura": _number(row.get("altura")),
                "profundidade": _number(row.get("comprimento")),
                "unidadeMedida": 1,
            }
        ),
        "tributacao": {"ncm": text(row.get("ncm"))},
    }
    return _without_empty(record)


def to_internal(record: Mapping[str, Any]) -> dict[str, Any]:
    dims = record.get("dimensoes") if isinstance(record.get("dimensoes"), Mapping) else {}
    tax = record.get("tributacao") if isinstance(record.get("tributacao"), Mapping) else {}
    stock = record.get("estoque") if isinstance(record.get("estoque"), Mapping) else {}
    # A list item carries a subset (provider-apis.md §3): a field Bling did not
    # send is left out, never written over the ERP's value as None.
    sources = [
        ("nome", record, "nome", text_or_none),
        ("codigo_interno", record, "codigo", text_or_none),
        ("codigo_barra", record, "gtin", text_or_none),
        ("descricao", record, "descricaoCurta", text_or_none),
        ("valor_venda", record, "preco", decimal_or_none),
        ("peso_liquido", record, "pesoLiquido", decimal_or_none),
        ("peso_bruto", record, "pesoBruto", decimal_or_none),
        ("largura", dims, "largura", decimal_or_none),
        ("altura", dims, "altura", decimal_or_none),
        ("comprimento", dims, "profundidade", decimal_or_none),
        ("ncm", tax, "ncm", text_or_none),
        ("estoque", stock, "saldoVirtualTotal", decimal_or_none),
    ]
    row = {column: convert(part.get(key)) for column, part, key, convert in sources if key in part}
    if "situacao" in record:
        row["ativo"] = 0 if record.get("situacao") == "I" else 1
    return row


def lookup_params(row: Mapping[str, Any]) -> dict[str, Any] | None:
    # The list filter is ``codigos[]`` (official OpenAPI, GET /produtos); an
    # unknown filter name is ignored and the whole catalogue comes back.
    code = text(row.get("codigo_interno")).strip()
    return {"codigos[]": code} if code else None


def matches(record: Mapping[str, Any], row: Mapping[str, Any]) -> bool:
    code = text(row.get("codigo_interno")).strip()
    return bool(code) and text(record.get("codigo")).strip() == code
