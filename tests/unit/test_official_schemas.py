"""The checker that holds the emulators' exchanges against the official schemas."""

from __future__ import annotations

import pytest

from crm_cli.providers.emulator import Exchange
from tests.official_schemas import schemas


def exchange(method, path, body=None, status=200, answer=None, **query) -> Exchange:
    return Exchange(
        method,
        path,
        {k: [str(v)] for k, v in query.items()},
        "crm-cli/test",
        body,
        status,
        answer,
    )


SALE_ITEM = {"produto": {"produto_id": 22, "quantidade": "2", "valor_venda": "30.00"}}
SALE = {
    "tipo": "produto",
    "codigo": "795",
    "cliente_id": "1",
    "situacao_id": "1",
    "data": "2026-11-30",
    "produtos": [SALE_ITEM],
}


def test_a_documented_request_and_answer_pass():
    sale = exchange(
        "POST",
        "/api/vendas",
        SALE,
        answer={"code": 200, "status": "success", "data": {"id": "1"}},
    )
    assert schemas("gestao_click").problems(sale) == []


@pytest.mark.parametrize(
    ("provider", "case", "complaint"),
    [
        ("gestao_click", exchange("POST", "/api/vendas", {**SALE, "desconto": "1"}), "desconto"),
        (
            "gestao_click",
            exchange("GET", "/api/clientes", limite=100),
            "'limite' is not documented",
        ),
        ("gestao_click", exchange("POST", "/api/pedidos", {}), "not a documented operation"),
        (
            "pipedrive",
            exchange("POST", "/api/v2/deals/1/discounts", {"description": "x", "amount": "5"}),
            "'type' is a required property",
        ),
        ("pipedrive", exchange("GET", "/api/v2/persons", sort_by="name"), "not one of"),
        (
            "pipedrive",
            exchange("POST", "/api/v2/persons", {"name": "A"}, status=201),
            "status 201 is not documented",
        ),
        (
            "bling",
            exchange("GET", "/Api/v3/produtos", answer={"data": [{"id": 1, "nome": "x"}]}),
            "'tipo' is a required property",
        ),
        ("bling", exchange("GET", "/Api/v3/contatos", criterio=9), "not one of"),
        (
            "bling",
            exchange(
                "POST",
                "/Api/v3/produtos",
                {"nome": "x", "tipo": "P", "situacao": "A", "formato": "S", "precoCusto": 1.5},
            ),
            "precoCusto",
        ),
    ],
)
def test_what_the_schema_refuses_is_named(provider, case, complaint):
    problems = schemas(provider).problems(case)
    assert any(complaint in problem for problem in problems), problems


def test_a_tests_own_request_is_not_judged_only_its_answer():
    answer = {"code": 404, "status": "error", "data": {"erro": "Not Found", "mensagem": "…"}}
    refused = exchange("POST", "/api/clientes", {"tipo_pessoa": "XX"}, status=404, answer=answer)
    assert schemas("gestao_click").problems(refused, request=False) == []


def test_the_errata_are_applied():
    item_with_decimals = exchange(
        "GET",
        "/api/v2/deals/1/products",
        answer={
            "success": True,
            "data": [{"id": 1, "quantity": 2.5}],
            "additional_data": {"next_cursor": None},
        },
    )
    order = exchange(
        "POST",
        "/Api/v3/pedidos/vendas",
        {
            "contato": {"id": 1},
            "data": "2026-11-30",
            "dataSaida": "2026-11-30",
            "dataPrevista": "2026-11-30",
            "itens": [{"quantidade": 1, "valor": 2.5, "descricao": "x"}],
            "parcelas": [
                {"dataVencimento": "2026-11-30", "valor": 2.5, "formaPagamento": {"id": 1}}
            ],
        },
        status=201,
        answer={"data": {"id": 1}},
    )
    assert schemas("pipedrive").problems(item_with_decimals) == []
    assert schemas("bling").problems(order) == []


def test_limits_and_the_oauth_endpoint_are_outside_the_schema():
    assert schemas("bling").problems(exchange("POST", "/Api/v3/oauth/token")) == []
    assert schemas("pipedrive").problems(exchange("GET", "/nowhere", status=429)) == []
