"""GestãoClick's handlers: ERP rows to the API's records and back (pure functions)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm_cli.errors import ValidationFailed
from crm_cli.providers.gestao_click.handlers import cliente, produto, venda

DIGITS = st.text(alphabet="0123456789", min_size=1, max_size=20)


CLIENTE_ROW = {
    "tipo_pessoa": "PJ",
    "nome": "Loja X",
    "razao_social": "Loja X Ltda",
    "cnpj": "12345678000195",
    "cpf": None,
    "inscricao_estadual": "123",
    "inscricao_municipal": None,
    "rg": None,
    "data_nascimento": dt.date(2000, 1, 2),
    "telefone": "1133334444",
    "celular": "11987654321",
    "email": "x@loja.com",
    "ativo": True,
}


def test_cliente_to_external():
    record = cliente.to_external(CLIENTE_ROW)

    assert record["cnpj"] == "12.345.678/0001-95"
    assert record["cpf"] == ""  # unused values are "" in POST bodies
    assert record["data_nascimento"] == "2000-01-02"
    assert record["ativo"] == "1"
    assert record["tipo_pessoa"] == "PJ"


def test_cliente_round_trip_keeps_the_erp_values():
    back = cliente.to_internal(cliente.to_external(CLIENTE_ROW))

    for key in ("tipo_pessoa", "nome", "razao_social", "cnpj", "telefone", "celular", "email"):
        assert back[key] == CLIENTE_ROW[key]
    assert back["data_nascimento"] == dt.date(2000, 1, 2)
    assert back["ativo"] == 1
    assert back["cpf"] is None


@given(
    st.text(alphabet="0123456789", min_size=11, max_size=11),
    st.text(alphabet="0123456789", min_size=10, max_size=11),
)
def test_cliente_documents_and_phones_round_trip(cpf, phone):
    row = {"nome": "A", "cpf": cpf, "celular": phone}
    back = cliente.to_internal(cliente.to_external(row))
    assert (back["cpf"], back["celular"]) == (cpf, phone)


def test_cliente_natural_key_is_the_document_digits():
    assert cliente.lookup_params({"cpf": "123.456.789-01"}) == {"cpf_cnpj": "12345678901"}
    assert cliente.lookup_params({"cpf": None, "cnpj": ""}) is None
    assert cliente.matches({"cpf": "123.456.789-01"}, {"cpf": "12345678901"})
    assert not cliente.matches({"cpf": ""}, {"cpf": ""})


def test_cliente_foreign_type_is_not_written_to_the_erp_enum():
    # the ERP's ENUM has ES (estrangeiro): a foreign client stays one
    assert cliente.to_internal({"tipo_pessoa": "ES", "nome": "A"})["tipo_pessoa"] == "ES"


PRODUTO_ROW = {
    "nome": "Caneta",
    "codigo_interno": "CAN-1",
    "codigo_barra": "789",
    "descricao": "Azul",
    "estoque": Decimal("12.5"),
    "valor_custo": Decimal("1.2"),
    "valor_venda": Decimal("3"),
    "ncm": "96081000",
    "peso_liquido": Decimal("0.01"),
    "peso_bruto": Decimal("0.02"),
    "largura": Decimal("1"),
    "altura": Decimal("15"),
    "comprimento": Decimal("1"),
    "ativo": 1,
}


def test_produto_round_trip_through_the_nested_fiscal_answer():
    sent = produto.to_external(PRODUTO_ROW)
    assert (sent["valor_custo"], sent["valor_venda"], sent["ncm"]) == ("1.20", "3.00", "96081000")
    answer = {**sent, "fiscal": {k: sent.pop(k) for k in ("ncm", "peso_liquido", "peso_bruto")}}

    back = produto.to_internal(answer)

    assert back["ncm"] == "96081000"
    assert back["peso_bruto"] == Decimal("0.02")
    assert back["valor_venda"] == Decimal("3.00")
    assert back["estoque"] == Decimal("12.5")
    assert produto.lookup_params(PRODUTO_ROW) == {"codigo": "CAN-1"}


def test_venda_sends_crm_ids_and_round_trips():
    row = {
        "codigo": 1001,
        "cliente_external_id": "77",
        "situacao_venda_id": 2,
        "data_venda": dt.date(2026, 11, 30),
        "valor_total": Decimal("99.9"),
        "valor_frete": None,
        "observacoes": None,
        "itens": [{"produto_external_id": "5", "quantidade": 1, "valor_venda": "99.90"}],
    }
    sent = venda.to_external(row)

    assert sent["cliente_id"] == "77"
    assert sent["codigo"] == "1001"
    assert sent["data"] == "2026-11-30"
    assert sent["valor_total"] == "99.90"
    back = venda.to_internal(sent)
    assert back["cliente_external_id"] == "77"
    assert back["data_venda"] == dt.date(2026, 11, 30)
    assert venda.matches({"codigo": "1001"}, row)


@pytest.mark.parametrize("codigo", ["A10", "2024/001", "0010", ""])
def test_a_sales_code_that_is_not_gestaoclicks_integer_is_refused_not_coerced(codigo):
    with pytest.raises(ValidationFailed, match=f"the sale's code '{re.escape(codigo)}' is not one"):
        venda.to_external({"codigo": codigo, "cliente_external_id": "5"})
    assert venda.lookup_params({"codigo": codigo}) is None
    assert not venda.matches({"codigo": "10"}, {"codigo": codigo})


def test_a_numeric_code_goes_and_is_the_natural_key():
    assert venda.to_external({"codigo": "795", "cliente_external_id": "5"})["codigo"] == "795"
    assert venda.lookup_params({"codigo": " 795 "}) == {"codigo": "795"}
    assert venda.ERP_OWNS == ("codigo",)


SALE_WITH_FREIGHT_AND_DISCOUNTS = {
    "codigo": "7",
    "cliente_external_id": "77",
    "data_venda": dt.date(2026, 11, 30),
    "valor_frete": Decimal("12.50"),
    "desconto_valor": Decimal("1.50"),
    "valor_total": Decimal("90.00"),  # 49.00 + 30.00 + 12.50 − 1.50
    "itens": [
        # 2.5 × 19.99 = 49.975 → 49.98, less 0.98
        {
            "produto_external_id": "5",
            "quantidade": "2.5",
            "valor_venda": "19.99",
            "desconto_valor": "0.98",
            "valor_total": "49.00",
        },
        {
            "produto_external_id": "6",
            "quantidade": "3",
            "valor_venda": "10.00",
            "valor_total": "30.00",
        },
    ],
}


def test_a_sale_goes_with_its_discount_so_gestaoclicks_total_is_the_erps():
    sent = venda.to_external(SALE_WITH_FREIGHT_AND_DISCOUNTS)

    assert sent["valor_frete"] == "12.50"
    assert sent["desconto_valor"] == "1.50"
    assert [p["produto"]["valor_total"] for p in sent["produtos"]] == ["49.00", "30.00"]
    assert sent["pagamentos"][0]["pagamento"]["valor"] == "90.00"
    back = venda.to_internal(sent)
    assert (back["valor_total"], back["valor_frete"], back["desconto_valor"]) == (
        Decimal("90.00"),
        Decimal("12.50"),
        Decimal("1.50"),
    )


def test_a_total_that_is_not_the_items_and_freight_less_a_discount_goes_as_that_discount():
    # the ERP's desconto_valor disagrees with its own total: the total wins
    row = {**SALE_WITH_FREIGHT_AND_DISCOUNTS, "desconto_valor": None}
    assert venda.to_external(row)["desconto_valor"] == "1.50"


def test_a_total_above_the_items_and_freight_is_refused_naming_both():
    row = {**SALE_WITH_FREIGHT_AND_DISCOUNTS, "valor_total": Decimal("95.00")}
    with pytest.raises(ValidationFailed, match=r"valor_total 95.00 is more than .* \(91.50\)"):
        venda.to_external(row)


@pytest.mark.parametrize(
    ("tipo", "phone", "sent", "back"),
    [
        ("ES", "+1 212 555 0100", "+1 212 555 0100", "+1 212 555 0100"),
        ("PF", "+44 20 7946 0958", "+44 20 7946 0958", "+44 20 7946 0958"),
        ("PF", "+55 11 98765-4321", "+55 (11) 98765-4321", "5511987654321"),
        ("PJ", "1132654321", "(11) 3265-4321", "1132654321"),
    ],
)
def test_a_foreign_phone_keeps_its_country_code_a_brazilian_one_is_masked(tipo, phone, sent, back):
    out = cliente.to_external({"nome": "X", "tipo_pessoa": tipo, "telefone": phone})
    assert out["telefone"] == sent
    assert cliente.to_internal(out)["telefone"] == back
