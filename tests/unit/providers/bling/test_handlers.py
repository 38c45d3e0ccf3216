"""Bling's handlers: ERP rows to API v3 records and back (pure functions)."""

from __future__ import annotations

import pytest

from crm_cli.providers.bling.handlers import cliente, produto, venda


def test_handlers_map_the_erp_columns():
    contact = cliente.to_external(
        {
            "tipo_pessoa": "PF",
            "nome": "Ana",
            "cpf": "123.456.789-01",
            "celular": "(11) 98765-4321",
            "ativo": 1,
        }
    )
    assert (contact["tipo"], contact["numeroDocumento"], contact["celular"]) == (
        "F",
        "12345678901",
        "11987654321",
    )
    assert cliente.to_internal({**contact, "id": 1})["cpf"] == "12345678901"
    assert cliente.lookup_params({"cnpj": "12.345.678/0001-95"}) == {
        "numeroDocumento": "12345678000195"
    }
    item = produto.to_external({"nome": "P", "codigo_interno": "C1", "valor_venda": "9.90"})
    assert (item["codigo"], item["preco"]) == ("C1", 9.9)
    order = venda.to_external(
        {"codigo": "1001", "cliente_external_id": "7", "data_venda": "2026-11-30"}
    )
    assert (order["numero"], order["contato"], order["data"]) == (1001, {"id": 7}, "2026-11-30")


def test_handlers_map_only_the_fields_a_list_item_carries():
    item = {"id": 7, "nome": "Maria", "numeroDocumento": "12345678909", "situacao": "A"}
    assert cliente.to_internal(item) == {
        "nome": "Maria",
        "cpf": "12345678909",
        "cnpj": None,
        "ativo": 1,
        "tipo_pessoa": "PF",
    }
    mapped = produto.to_internal({"id": 3, "nome": "Caneca", "codigo": "C-1", "preco": 9.9})
    assert set(mapped) == {"nome", "codigo_interno", "valor_venda"}
    assert (mapped["nome"], mapped["codigo_interno"], float(mapped["valor_venda"])) == (
        "Caneca",
        "C-1",
        9.9,
    )


@pytest.mark.parametrize(
    ("codigo", "numero"),
    [("1001", 1001), ("A10", None), ("B10", None), ("2024/001", None), ("0010", None)],
)
def test_an_orders_code_goes_whole_and_as_a_number_only_when_it_is_one(codigo, numero):
    order = venda.to_external({"codigo": codigo, "cliente_external_id": "7"})
    assert order["numeroLoja"] == codigo
    assert order.get("numero") == numero
    assert venda.lookup_params({"codigo": codigo}) == {"numerosLojas[]": [codigo]}
    assert venda.to_internal({"numeroLoja": codigo, "numero": 55})["codigo"] == codigo


def test_two_codes_with_the_same_digits_are_two_orders():
    a10, b10 = {"numeroLoja": "A10", "numero": 10}, {"numeroLoja": "B10", "numero": 11}
    assert venda.matches(a10, {"codigo": "A10"}) and not venda.matches(b10, {"codigo": "A10"})
    assert not venda.matches({"numeroLoja": "2024001", "numero": 2024001}, {"codigo": "2024/001"})


def test_a_product_sends_no_cost_and_no_empty_number():
    """precoCusto is read-only (the default supplier's price); numbers are not nullable."""
    sent = produto.to_external(
        {"nome": "P", "codigo_interno": "C1", "valor_venda": 9.5, "valor_custo": 4, "largura": 2}
    )
    assert "precoCusto" not in sent
    assert "pesoLiquido" not in sent and sent["dimensoes"] == {"largura": 2.0, "unidadeMedida": 1}
    assert "valor_custo" not in produto.to_internal({"precoCusto": 1.0, "nome": "P"})


def test_a_contact_without_a_birth_date_sends_none():
    assert "dadosAdicionais" not in cliente.to_external({"nome": "Ana", "cpf": "1"})
    with_date = cliente.to_external({"nome": "Ana", "cpf": "1", "data_nascimento": "1990-01-02"})
    assert with_date["dadosAdicionais"] == {"dataNascimento": "1990-01-02"}


ORDER_ROW = {
    "codigo": "10",
    "data_venda": "2026-11-30",
    "cliente_external_id": "4",
    "valor_frete": "12.50",
    "valor_total": "63.28",
    "itens": [
        {"produto_external_id": "5", "quantidade": "2.5", "valor_venda": "19.90"},
        {"produto_external_id": "6", "quantidade": "0.333", "valor_venda": "9.99"},
    ],
}


def test_an_order_carries_its_three_dates_and_what_lies_beyond_its_items_as_discount():
    order = venda.to_external(ORDER_ROW)

    assert order["data"] == order["dataSaida"] == order["dataPrevista"] == "2026-11-30"
    # 49.75 + 3.32667 + 12.50 − 63.28 = 2.29667 → 2.30
    assert order["desconto"] == {"valor": 2.3, "unidade": "REAL"}
    assert "outrasDespesas" not in order
    above = venda.to_external({**ORDER_ROW, "valor_total": "70.00"})
    assert (above["desconto"]["valor"], above["outrasDespesas"]) == (0.0, 4.42)


def test_an_order_read_back_gives_the_erp_blings_total_freight_and_discount():
    row = venda.to_internal(
        {
            "numeroLoja": "10",
            "total": 63.28,
            "transporte": {"frete": 12.5},
            "desconto": {"valor": 2.3, "unidade": "REAL"},
        }
    )
    assert [str(row[k]) for k in ("valor_total", "valor_frete", "desconto_valor")] == [
        "63.28",
        "12.5",
        "2.3",
    ]
    percent = venda.to_internal({"desconto": {"valor": 5, "unidade": "PERCENTUAL"}})
    assert "desconto_valor" not in percent
