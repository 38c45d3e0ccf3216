"""ERP ``vendas`` (with ``vendas_itens``) ↔ Bling ``/pedidos/vendas`` (natural key: numero).

Bling's schema requires ``itens[]`` and ``parcelas[]`` (the official OpenAPI of
https://api.bling.com.br/Api/v3, ``POST /pedidos/vendas``); it works the total
out itself: items + freight − discount, and refuses parcelas that do not add
up to it. So the sale goes as its items at their unit prices, its freight,
and as discount whatever else lies between those and the ERP's total; one
parcela pays the ERP's total (a total above the items and freight sends the
excess as ``outrasDespesas``, which Bling adds). An item's discount is a percentage in Bling
(VendasItemDTO ``desconto``: "Valor percentual"), the ERP's an amount: it goes
inside the order's discount (an amount, ``unidade`` REAL), so that no cent is
lost to a rounded percentage. Read back, the order's total, freight and discount
are Bling's; its items come at their unit prices, and the ERP's sum of items
(``valor_produtos``) is worked out from them, so the ERP's figures add up as
its sale screen computes them, and to the same total. Ids and money are JSON
numbers. The customer and products go by their Bling ids; the payment form is
the store's (``configuracoes.forma_pagamento_id``) or the account's default,
placed by the client.

The ERP's ``codigo`` is text ("A10", "2024/001"): it goes whole in ``numeroLoja``
(a string in the schema, filtered by ``numerosLojas[]``), which is the natural
key. ``numero`` is an integer: sent only when the code is one exactly ("10",
not "A10" or "0010"), else Bling numbers the order itself. Never is a code
stripped into a number: "A10" and "B10" would both be 10.
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

ITEMS = "itens"  # the row's line items (crm_cli.engine.line_items)
# Columns the ERP numbers itself: a CRM record coming back never rewrites a value
# the row has (an order made before numeroLoja carried the ERP's code has only numero).
ERP_OWNS = ("codigo",)
CENT = Decimal("0.01")


def _int(value: Any) -> int | None:
    d = digits(value)
    return int(d) if d else None


def _code(row: Mapping[str, Any]) -> str:
    return text(row.get("codigo")).strip()


def _plain_number(code: str) -> int | None:
    """The code as Bling's integer ``numero``, when it is exactly one."""
    return int(code) if code.isdigit() and str(int(code)) == code else None


def _decimal(value: Any) -> Decimal:
    return decimal_or_none(value) or Decimal(0)


def _item(line: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "produto": {"id": _int(line.get("produto_external_id"))},
        "descricao": text(line.get("nome_produto")),
        "quantidade": float(_decimal(line.get("quantidade"))),
        "valor": float(_decimal(line.get("valor_venda"))),
        "desconto": 0,
    }


def to_external(row: Mapping[str, Any]) -> dict[str, Any]:
    record = _sale(row)
    if row.get("vendedor_id") not in (None, ""):  # the client sends the CRM's user for it
        record[SELLER] = row["vendedor_id"]
    return record


def _sale(row: Mapping[str, Any]) -> dict[str, Any]:
    lines = row.get(ITEMS) or []
    goods = sum(
        (_decimal(x.get("quantidade")) * _decimal(x.get("valor_venda")) for x in lines), Decimal(0)
    )
    frete = _decimal(row.get("valor_frete"))
    total = _decimal(row.get("valor_total"))
    # what lies between items + freight and the total: a discount, or, above them
    # (services the ERP sells beside its items), the order's other expenses
    difference = (goods + frete - total).quantize(CENT)
    discount, expenses = max(difference, Decimal(0)), max(-difference, Decimal(0))
    order: dict[str, Any] = {"numeroLoja": _code(row)}
    number = _plain_number(_code(row))
    if number is not None:
        order["numero"] = number
    return order | {
        # the schema requires all three dates (VendasDadosBaseDTO): the sale's
        "data": date_text(row.get("data_venda")),
        "dataSaida": date_text(row.get("data_venda")),
        "dataPrevista": date_text(row.get("data_venda")),
        "contato": {"id": _int(row.get("cliente_external_id"))},
        "observacoes": text(row.get("observacoes")),
        "itens": [_item(line) for line in lines],
        "transporte": {"frete": float(frete)},
        "desconto": {"valor": float(discount), "unidade": "REAL"},
        **({"outrasDespesas": float(expenses)} if expenses else {}),
        "parcelas": [{"dataVencimento": date_text(row.get("data_venda")), "valor": float(total)}],
    }


def to_internal(record: Mapping[str, Any]) -> dict[str, Any]:
    row = _fields(record)
    if SELLER in record:  # the CRM's user, as the client found the ERP's seller for it
        row["vendedor_id"] = record[SELLER]
    return row


def _fields(record: Mapping[str, Any]) -> dict[str, Any]:
    """The ERP's columns for what the record holds (a list item is a subset)."""
    row: dict[str, Any] = {}
    if record.get("numeroLoja"):
        row["codigo"] = text_or_none(record.get("numeroLoja"))  # the ERP's code, whole
    elif "numero" in record:
        row["codigo"] = text_or_none(record.get("numero"))
    if "data" in record:
        row["data_venda"] = date_or_none(record.get("data"))
    contact = record.get("contato")
    if isinstance(contact, Mapping) and "id" in contact:
        row["cliente_external_id"] = text_or_none(contact.get("id"))
    if "total" in record:  # Bling's own: items + freight − discount
        row["valor_total"] = decimal_or_none(record.get("total"))
    transport = record.get("transporte")
    if isinstance(transport, Mapping) and "frete" in transport:
        row["valor_frete"] = decimal_or_none(transport.get("frete"))
    discount = record.get("desconto")
    if isinstance(discount, Mapping) and discount.get("unidade", "REAL") == "REAL":
        row["desconto_valor"] = decimal_or_none(discount.get("valor"))
    if "observacoes" in record:
        row["observacoes"] = text_or_none(record.get("observacoes"))
    if isinstance(record.get("itens"), list):
        row[ITEMS] = [_line(item) for item in record["itens"] if isinstance(item, Mapping)]
    return row


def _line(item: Mapping[str, Any]) -> dict[str, Any]:
    product = item.get("produto") if isinstance(item.get("produto"), Mapping) else {}
    quantity, price = decimal_or_none(item.get("quantidade")), decimal_or_none(item.get("valor"))
    return {
        "produto_external_id": text_or_none(product.get("id")),
        "nome_produto": text_or_none(item.get("descricao")),
        "quantidade": quantity,
        "valor_venda": price,
        "valor_total": (quantity * price).quantize(CENT) if quantity and price else None,
    }


def lookup_params(row: Mapping[str, Any]) -> dict[str, Any] | None:
    code = _code(row)
    return {"numerosLojas[]": [code]} if code else None


def matches(record: Mapping[str, Any], row: Mapping[str, Any]) -> bool:
    code = _code(row)
    return bool(code) and text(record.get("numeroLoja")).strip() == code
