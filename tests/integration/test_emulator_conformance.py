"""The emulators answer as the official sources say, on the endpoints and parameters
crm-cli's clients do not all use yet (every answer here is also held against the
official schema when the test ends: tests/official_schemas.py)."""

from __future__ import annotations

import time

import requests


def _pd(pd_emulator, method: str, path: str, **kwargs) -> requests.Response:
    headers = {"x-api-token": pd_emulator.credentials["api_token"]}
    return requests.request(
        method, f"{pd_emulator.url}/api/v2{path}", headers=headers, timeout=5, **kwargs
    )


def _deal_with_products(pd_emulator) -> tuple[int, list[int]]:
    for n in (1, 2):
        pd_emulator.seed("products", {"id": n, "name": f"P{n}"})
    deal = _pd(pd_emulator, "POST", "/deals", json={"title": "Venda 1", "value": 999}).json()
    lines = [
        {
            "product_id": 1,
            "item_price": 10.0,
            "quantity": 2.5,
            "discount": 1,
            "discount_type": "amount",
        },
        {"product_id": 2, "item_price": 4.0, "quantity": 1, "discount": 10},  # a percentage
    ]
    deal_id = deal["data"]["id"]
    added = _pd(pd_emulator, "POST", f"/deals/{deal_id}/products/bulk", json={"data": lines})
    return deal_id, [p["id"] for p in added.json()["data"]]


def test_a_deals_value_is_its_products_less_its_discounts(pd_emulator):
    deal_id, _ = _deal_with_products(pd_emulator)

    def value() -> float:
        return _pd(pd_emulator, "GET", f"/deals/{deal_id}").json()["data"]["value"]

    assert value() == 27.6  # 25 − 1 + 4 − 10 %: the 999 sent does not count
    discount = _pd(
        pd_emulator,
        "POST",
        f"/deals/{deal_id}/discounts",
        json={"description": "Desconto", "amount": 2.6, "type": "amount"},
    )
    assert (discount.status_code, value()) == (201, 25.0)
    _pd(pd_emulator, "PATCH", f"/deals/{deal_id}", json={"value": 1})
    assert value() == 25.0
    gone = _pd(pd_emulator, "DELETE", f"/deals/{deal_id}/discounts/{discount.json()['data']['id']}")
    assert (gone.status_code, value()) == (200, 27.6)
    refused = _pd(
        pd_emulator,
        "POST",
        f"/deals/{deal_id}/discounts",
        json={"description": "x", "amount": 0, "type": "amount"},
    )
    assert refused.status_code == 400  # "Must be a positive number (excluding 0)"


def test_one_deal_product_changes_and_goes_and_products_are_listed_across_deals(pd_emulator):
    deal_id, (first, second) = _deal_with_products(pd_emulator)

    changed = _pd(pd_emulator, "PATCH", f"/deals/{deal_id}/products/{first}", json={"quantity": 1})
    removed = _pd(pd_emulator, "DELETE", f"/deals/{deal_id}/products/{second}")
    listed = _pd(pd_emulator, "GET", "/deals/products", params={"deal_ids": str(deal_id)})

    assert (changed.status_code, changed.json()["data"]["sum"]) == (200, 9.0)
    assert removed.json()["data"] == {"id": second}
    assert [p["id"] for p in listed.json()["data"]] == [first]
    assert _pd(pd_emulator, "GET", "/deals/products").status_code == 400  # deal_ids required


def test_deleting_a_deals_products_takes_100_at_most_and_says_more_are_left(pd_emulator):
    pd_emulator.seed("products", {"id": 1, "name": "P"})
    deal = _pd(pd_emulator, "POST", "/deals", json={"title": "Venda 2"}).json()["data"]
    line = {"product_id": 1, "item_price": 1.0, "quantity": 1}
    for _ in range(2):
        _pd(pd_emulator, "POST", f"/deals/{deal['id']}/products/bulk", json={"data": [line] * 60})

    first = _pd(pd_emulator, "DELETE", f"/deals/{deal['id']}/products").json()
    second = _pd(pd_emulator, "DELETE", f"/deals/{deal['id']}/products").json()

    assert (len(first["data"]["ids"]), first["additional_data"]) == (
        100,
        {"more_items_in_collection": True},
    )
    assert len(second["data"]["ids"]) == 20
    too_many = ",".join(str(n) for n in range(101))
    assert (
        _pd(pd_emulator, "DELETE", f"/deals/{deal['id']}/products", params={"ids": too_many})
    ).status_code == 400


def test_lists_honour_updated_since_and_sort(pd_emulator):
    old = pd_emulator.seed("persons", {"name": "Old"})
    new = pd_emulator.seed("persons", {"name": "New"})
    old["update_time"] = "2020-01-01T00:00:00Z"

    since = _pd(pd_emulator, "GET", "/persons", params={"updated_since": "2021-01-01T00:00:00Z"})
    newest_first = _pd(
        pd_emulator, "GET", "/persons", params={"sort_by": "update_time", "sort_direction": "desc"}
    )

    assert [p["id"] for p in since.json()["data"]] == [new["id"]]
    assert [p["id"] for p in newest_first.json()["data"]] == [new["id"], old["id"]]
    assert _pd(pd_emulator, "GET", "/persons", params={"sort_by": "name"}).status_code == 400


def test_search_looks_in_every_documented_field_unless_told(pd_emulator):
    pd_emulator.seed("persons", {"name": "Ana", "emails": [{"value": "ana@x.com"}]})

    anywhere = _pd(pd_emulator, "GET", "/persons/search", params={"term": "ana@x.com"})
    by_name = _pd(
        pd_emulator, "GET", "/persons/search", params={"term": "ana@x.com", "fields": "name"}
    )
    wrong = _pd(pd_emulator, "GET", "/persons/search", params={"term": "ana", "fields": "title"})

    assert len(anywhere.json()["data"]["items"]) == 1
    assert by_name.json()["data"]["items"] == []
    assert wrong.status_code == 400


def _bling(bling_emulator, method: str, path: str, **kwargs) -> requests.Response:
    with bling_emulator.lock:  # an access token, as the token endpoint would give one
        bling_emulator.access_tokens["conformance"] = time.time() + 60
    return requests.request(
        method,
        f"{bling_emulator.url}/Api/v3{path}",
        headers={"Authorization": "Bearer conformance"},
        timeout=5,
        **kwargs,
    )


def test_bling_patches_a_product_and_answers_an_order_put_with_its_id(bling_emulator):
    product = bling_emulator.seed("produtos", {"nome": "Caneta", "codigo": "C1", "preco": 2.0})
    contact = bling_emulator.seed("contatos", {"nome": "Ana"})
    order = {
        "contato": {"id": contact["id"]},
        "data": "2026-11-30",
        "dataSaida": "2026-11-30",
        "dataPrevista": "2026-11-30",
        "itens": [
            {"produto": {"id": product["id"]}, "descricao": "Caneta", "quantidade": 1, "valor": 2.0}
        ],
        "parcelas": [
            {"dataVencimento": "2026-11-30", "valor": 2.0, "formaPagamento": {"id": 1001}}
        ],
    }
    created = _bling(bling_emulator, "POST", "/pedidos/vendas", json=order).json()

    patched = _bling(bling_emulator, "PATCH", f"/produtos/{product['id']}", json={"preco": 3.5})
    put = _bling(bling_emulator, "PUT", f"/pedidos/vendas/{created['data']['id']}", json=order)

    assert patched.status_code == 200
    assert bling_emulator.records["produtos"][str(product["id"])]["preco"] == 3.5
    assert bling_emulator.records["produtos"][str(product["id"])]["codigo"] == "C1"  # kept
    assert (put.status_code, put.json()) == (200, {"data": {"id": created["data"]["id"]}})


def test_bling_lists_by_criterio_stock_and_pesquisa(bling_emulator):
    bling_emulator.seed("contatos", {"nome": "Ana Souza", "email": "ana@x.com"})
    bling_emulator.seed("contatos", {"nome": "Bruno", "situacao": "E"})
    bling_emulator.seed("produtos", {"nome": "Sem estoque", "codigo": "A"})
    bling_emulator.seed(
        "produtos", {"nome": "Com estoque", "codigo": "B", "estoque": {"saldoVirtualTotal": 3}}
    )

    def names(path: str, **params) -> list[str]:
        answer = _bling(bling_emulator, "GET", path, params=params)
        return [r["nome"] for r in answer.json()["data"]]

    assert names("/contatos", pesquisa="ana@x", criterio=1) == ["Ana Souza"]
    assert names("/contatos", criterio=2) == ["Bruno"]
    assert names("/produtos") == ["Com estoque"]  # Últimos incluídos, positive stock
    assert names("/produtos", criterio=5, filtroSaldoEstoque=0) == ["Sem estoque"]
    assert _bling(bling_emulator, "GET", "/produtos", params={"criterio": 9}).status_code == 400


def test_gestaoclick_pages_hold_20_records_whatever_limite_says(gc_emulator):
    for n in range(25):
        gc_emulator.seed("clientes", {"tipo_pessoa": "PF", "nome": f"C{n}"})
    headers = {
        "access-token": gc_emulator.credentials["access_token"],
        "secret-access-token": gc_emulator.credentials["secret_access_token"],
    }

    answer = requests.get(
        f"{gc_emulator.url}/api/clientes", params={"limite": 100}, headers=headers, timeout=5
    ).json()

    assert (len(answer["data"]), answer["meta"]["proxima_pagina"]) == (20, 2)
