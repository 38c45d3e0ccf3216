"""ERP ``vendas`` (with ``vendas_itens``) ↔ GestãoClick ``/vendas`` (natural key: codigo).

What GestãoClick requires of a sale ([GC-DOC], provider-apis.md §1.8): ``tipo``,
``codigo``, ``cliente_id``, ``situacao_id``, ``data``; its ``produtos`` and
``pagamentos`` whose total is the sale's (refused with HTTP 404 otherwise).

GestãoClick works the sale's total out itself: each item's quantity × price
less its discount (``tipo_desconto`` R$), plus ``valor_frete``, less the sale's
``desconto_valor``. So the sale's discount goes as whatever lies between those
items and freight and the ERP's ``valor_total`` (the ERP's own discount when
its figures add up, as the PHP sale screen computes them), and one payment of
the ERP's total: the total GestãoClick computes is then the ERP's, and reading
the sale back writes the same money (a total above its items and freight
cannot be a discount: such a sale is refused, naming both figures).
Items name products by their GestãoClick ids (numbers in item bodies); the
client and seller go by their CRM ids (``cliente_external_id`` /
``vendedor_external_id``). ``situacao_id`` and the payment form are the
account's own ids: the client maps them from the store's settings.

``codigo`` is a required integer in GestãoClick's blueprint: the ERP's code goes
(and is the natural key) only when it is exactly one. "A10", "2024/001" or
"0010" would be coerced into another sale's number: such a sale is refused here,
naming its code, and never sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from crm_cli.errors import ValidationFailed
from crm_cli.providers.brazil import (
    date_or_none,
    date_text,
    decimal_or_none,
    digits,
    money,
    text,
    text_or_none,
)
from crm_cli.providers.fields import SELLER, sent
from crm_cli.providers.sales import discount_to_total

ITEMS = "itens"  # the row's line items (crm_cli.engine.line_items)
# Columns the ERP numbers itself: a CRM record coming back never rewrites a value
# the row has.
ERP_OWNS = ("codigo",)


def _code(row: Mapping[str, Any]) -> int | None:
    """The ERP's code as GestãoClick's integer codigo, when it is exactly one."""
    code = text(row.get("codigo")).strip()
    return int(code) if code.isdigit() and str(int(code)) == code else None


def _crm_id(value: Any) -> int | str:
    number = digits(value)
    return int(number) if number and number == text(value).strip() else text(value)


def _quantity(value: Any) -> str:
    amount = decimal_or_none(value)
    return format(amount.normalize(), "f") if amount is not None else "0"


def _line_total(item: Mapping[str, Any]) -> Decimal:
    """An item's total as GestãoClick computes it: quantity × price − discount, in cents."""
    gross = (decimal_or_none(item.get("quantidade")) or 0) * (
        decimal_or_none(item.get("valor_venda")) or 0
    )
    return Decimal(money(gross)) - (decimal_or_none(item.get("desconto_valor")) or 0)


def _product(item: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "produto": {
            "produto_id": _crm_id(item.get("produto_external_id")),
            "nome_produto": text(item.get("nome_produto")),
            "quantidade": _quantity(item.get("quantidade")),
            "valor_venda": money(item.get("valor_venda")),
            "tipo_desconto": "R$",
            "desconto_valor": money(item.get("desconto_valor")) or "0.00",
            "valor_total": money(_line_total(item)),
        }
    }


def _discount(row: Mapping[str, Any], freight: Decimal, total: Decimal) -> Decimal:
    """The sale's discount that makes GestãoClick's total the ERP's."""
    goods = sum((_line_total(item) for item in row.get(ITEMS) or []), Decimal(0))
    return discount_to_total(goods, freight, total, "GestãoClick computes the total from those")


def to_external(row: Mapping[str, Any]) -> dict[str, Any]:
    record = _sale(row)
    if row.get("vendedor_id") not in (None, ""):  # the client sends the CRM's user for it
        record[SELLER] = row["vendedor_id"]
    return record


def _sale(row: Mapping[str, Any]) -> dict[str, Any]:
    freight = decimal_or_none(row.get("valor_frete")) or Decimal(0)
    total = decimal_or_none(row.get("valor_total")) or Decimal(0)
    code = _code(row)
    if code is None:
        raise ValidationFailed(
            f"GestãoClick numbers sales with whole numbers (codigo): the sale's code "
            f"{text(row.get('codigo'))!r} is not one, and would be taken for another "
            "sale's; give it a numeric code in the ERP"
        )
    return {
        "tipo": "produto",
        "codigo": str(code),
        "cliente_id": text(row.get("cliente_external_id")),
        "vendedor_id": text(row.get("vendedor_external_id")),
        "situacao_id": text(row.get("situacao_venda_id")),
        "data": date_text(row.get("data_venda")),
        "valor_frete": money(freight),
        "desconto_valor": money(_discount(row, freight, total)),
        "valor_total": money(total),
        "observacoes": text(row.get("observacoes")),
        "condicao_pagamento": "a_vista",
        "produtos": [_product(item) for item in row.get(ITEMS) or []],
        # one payment of the whole sale, due on its date
        "pagamentos": [
            {
                "pagamento": {
                    "data_vencimento": date_text(row.get("data_venda")),
                    "valor": money(total),
                }
            }
        ],
    }


_HEADER = (
    ("codigo", "codigo", text_or_none),
    ("cliente_external_id", "cliente_id", text_or_none),
    ("vendedor_external_id", "vendedor_id", text_or_none),
    ("situacao_venda_id", "situacao_id", text_or_none),
    ("nome_situacao", "nome_situacao", text_or_none),
    ("data_venda", "data", date_or_none),
    ("valor_frete", "valor_frete", decimal_or_none),
    ("desconto_valor", "desconto_valor", decimal_or_none),
    ("valor_total", "valor_total", decimal_or_none),
    ("observacoes", "observacoes", text_or_none),
)
_ITEM = (
    ("produto_external_id", "produto_id", text_or_none),
    ("nome_produto", "nome_produto", text_or_none),
    ("quantidade", "quantidade", decimal_or_none),
    ("valor_venda", "valor_venda", decimal_or_none),
    ("desconto_valor", "desconto_valor", decimal_or_none),
    ("valor_total", "valor_total", decimal_or_none),
)


def to_internal(record: Mapping[str, Any]) -> dict[str, Any]:
    row = _fields(record)
    if SELLER in record:  # the CRM's user, as the client found the ERP's seller for it
        row["vendedor_id"] = record[SELLER]
    return row


def _fields(record: Mapping[str, Any]) -> dict[str, Any]:
    row = sent(record, _HEADER)
    if isinstance(record.get("produtos"), list):
        lines = [entry.get("produto") for entry in record["produtos"] if isinstance(entry, Mapping)]
        row[ITEMS] = [sent(line, _ITEM) for line in lines if isinstance(line, Mapping)]
    return row


def lookup_params(row: Mapping[str, Any]) -> dict[str, Any] | None:
    code = _code(row)
    return {"codigo": str(code)} if code is not None else None


def matches(record: Mapping[str, Any], row: Mapping[str, Any]) -> bool:
    code = _code(row)
    return code is not None and text(record.get("codigo")).strip() == str(code)
