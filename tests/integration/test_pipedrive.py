"""Pipedrive through the whole sync path against its loopback emulator."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from crm_cli.demo import sample_erp
from crm_cli.errors import AuthError, RateLimited, RecordNotFound, ValidationFailed
from crm_cli.services.service_crm import ServiceCrm
from crm_cli.settings import load_settings
from tests.integration.support import (
    configure_emulated_store,
    configure_store,
    php_enqueue,
    queue_rows,
    sync_back_renamed_product_and_sale,
)


def test_the_emulator_takes_the_token_as_the_real_api_does(pd_emulator):
    import requests

    token = pd_emulator.credentials["api_token"]
    by_query = requests.get(
        f"{pd_emulator.url}/api/v2/persons", params={"api_token": token}, timeout=5
    )
    wrong = requests.get(
        f"{pd_emulator.url}/api/v2/persons", params={"api_token": "nope"}, timeout=5
    )
    assert (by_query.status_code, wrong.status_code) == (200, 401)


def test_the_emulator_takes_person_id_and_an_accounts_own_activity_type(pd_emulator):
    """addActivity in the official OpenAPI v2: person_id an integer, type any key."""
    import requests

    headers = {"x-api-token": pd_emulator.credentials["api_token"]}
    url = f"{pd_emulator.url}/api/v2/activities"
    by_id = requests.post(
        url,
        json={"subject": "x", "type": "visita_tecnica", "person_id": 1},
        headers=headers,
        timeout=5,
    )
    by_participant = requests.post(
        url,
        json={"subject": "y", "type": "call", "participants": [{"person_id": 2, "primary": True}]},
        headers=headers,
        timeout=5,
    )
    bad_type = requests.post(
        url, json={"subject": "z", "type": "Visita!"}, headers=headers, timeout=5
    )

    assert (by_id.status_code, by_id.json()["data"]["person_id"]) == (200, 1)
    assert by_participant.json()["data"]["participants"] == [{"person_id": 2, "primary": True}]
    assert by_participant.json()["data"]["person_id"] == 2
    assert bad_type.status_code == 400


def test_clients_products_sales_and_activities_sync_both_ways(cli, pd_shop, pd_emulator):
    [cid] = sample_erp.add_clientes(pd_shop, 1)
    [pid] = sample_erp.add_produtos(pd_shop, 1)
    php_enqueue(pd_shop, [cid], loja=2)
    php_enqueue(pd_shop, [pid], entidade="produto", loja=2)
    cli("sync")
    with pd_shop.begin() as conn:
        person_id = conn.execute(sa.text("SELECT external_id FROM clientes")).scalar()
        conn.execute(
            sa.text(
                "INSERT INTO vendas (id, codigo, valor_total, cliente_external_id) "
                "VALUES (1, 'V-1', 99.9, :p)"
            ),
            {"p": person_id},
        )
        conn.execute(
            sa.text(
                "INSERT INTO atividades (id, titulo, tipo, cliente_external_id) "
                "VALUES (1, 'Ligar', 'call', :p)"
            ),
            {"p": person_id},
        )
    php_enqueue(pd_shop, [1], entidade="venda", loja=2)
    php_enqueue(pd_shop, [1], entidade="atividade", loja=2)

    result = cli("sync")

    assert result.exit_code == 0, result.stderr
    assert {r[1] for r in queue_rows(pd_shop)} == {"completed"}
    assert pd_emulator.stats()["creates"] == {
        "persons": 1,
        "products": 1,
        "deals": 1,
        "activities": 1,
    }
    [deal] = pd_emulator.records["deals"].values()
    assert (deal["title"], deal["person_id"], deal["value"]) == ("Venda V-1", int(person_id), 99.9)
    [person] = pd_emulator.records["persons"].values()
    assert person["emails"][0]["value"] == "c1@example.com"
    [activity] = pd_emulator.records["activities"].values()
    assert activity["person_id"] == int(person_id)  # set through its primary participant

    person["name"] = "Renamed in Pipedrive"  # and back: CRM → ERP
    php_enqueue(pd_shop, [cid], loja=2, direcao="crm_para_ecletech")
    cli("sync")
    with pd_shop.connect() as conn:
        assert conn.execute(sa.text("SELECT nome FROM clientes")).scalar() == "Renamed in Pipedrive"


def test_import_walks_cursor_pages(cli, pd_shop, pd_emulator):
    for n in range(250):
        pd_emulator.seed("persons", {"name": f"P{n}", "emails": [{"value": f"p{n}@x.com"}]})

    result = cli("import", "--entity", "cliente", "--loja", "2")

    assert "250 imported, 0 updated, 250 inserted" in result.stdout
    assert pd_emulator.stats()["requests"] == 3  # pages of 100


def test_natural_key_goes_through_the_search_endpoint(pd_shop, pd_emulator, cli):
    pd_emulator.seed("persons", {"name": "Outra", "emails": [{"value": "outra@x.com"}]})
    mine = pd_emulator.seed("persons", {"name": "Eu", "emails": [{"value": "eu@x.com"}]})
    client = ServiceCrm(pd_shop, load_settings()).client(2)

    assert client.procurar("cliente", {"email": "EU@x.com"})["id"] == mine["id"]
    assert client.procurar("cliente", {"email": "none@x.com"}) is None


def test_token_goes_in_a_header_and_errors_map_to_kinds(cli, pd_shop, pd_emulator):
    client = ServiceCrm(pd_shop, load_settings()).client(2)

    with pytest.raises(ValidationFailed, match="Parameter 'name' is required"):
        client.criar("cliente", {"name": ""})
    with pytest.raises(RecordNotFound):
        client.buscar("cliente", "404")
    pd_emulator.add_fault("429", retry_after=3)
    with pytest.raises(RateLimited) as caught:
        client.listar("cliente")
    assert 2 <= caught.value.retry_after <= 3
    assert "api_token" not in json.dumps(pd_emulator.stats())
    assert pd_emulator.counters["token_in_query"] == 0  # the header only, never the URL
    configure_store(
        cli,
        4,
        "pipedrive",
        {"api_token": "wrong-token"},
        api_base_url=pd_emulator.url,
        rate_limit_per_second=0,
    )
    with pytest.raises(AuthError):
        ServiceCrm(pd_shop, load_settings()).client(4).listar("cliente")


def test_spent_daily_budget_pauses_the_account_until_tomorrow(cli, pd_shop, pd_emulator):
    pd_emulator.daily = 3
    ids = sample_erp.add_clientes(pd_shop, 5)
    php_enqueue(pd_shop, ids, loja=2)

    result = cli("sync")

    assert result.exit_code == 0
    assert pd_emulator.stats()["creates"]["persons"] == 3
    assert pd_emulator.stats()["rate_limited"] == 0  # the header said so before any 429
    rows = queue_rows(pd_shop, "status", "tentativas")
    assert rows.count(("completed", 1)) == 3
    assert rows.count(("pending", 0)) == 2  # handed back, attempts intact
    stats = json.loads(cli("stats", "--json").stdout)
    [paused] = stats["paused_accounts"]
    assert paused["account"].startswith("pipedrive:")
    assert 0 < paused["seconds_left"] <= 86_400


def test_products_and_deals_come_back_to_the_erp(cli, pd_shop, pd_emulator):
    [pid] = sample_erp.add_produtos(pd_shop, 1)
    [cid] = sample_erp.add_clientes(pd_shop, 1)
    with pd_shop.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO vendas (id, codigo, valor_total, cliente_id) VALUES (1, 'V-9', 10, :c)"
            ),
            {"c": cid},
        )
    php_enqueue(pd_shop, [cid], loja=2)
    php_enqueue(pd_shop, [pid], entidade="produto", loja=2)
    php_enqueue(pd_shop, [1], entidade="venda", loja=2)
    cli("sync")
    [product] = pd_emulator.records["products"].values()
    [deal] = pd_emulator.records["deals"].values()
    product["name"], product["prices"] = "Renamed", [{"currency": "BRL", "price": 42.5}]
    deal["value"] = 123.45

    sync_back_renamed_product_and_sale(cli, pd_shop, 2, pid)


def test_spent_write_allowance_waits_for_midnight_utc_not_the_companys(cli, pd_shop, pd_emulator):
    """x-daily-requests-left counts "during the ongoing day (calculated in UTC)"."""
    from zoneinfo import ZoneInfo

    from crm_cli import http

    configure_emulated_store(cli, 2, pd_emulator, company_time_zone="Asia/Tokyo")
    pd_emulator.daily_writes = 2  # x-daily-requests-left: POST/PUT only
    ids = sample_erp.add_clientes(pd_shop, 4)
    php_enqueue(pd_shop, ids, loja=2)

    result = cli("sync")

    assert result.exit_code == 0
    assert pd_emulator.stats()["creates"]["persons"] == 2
    assert pd_emulator.stats()["rate_limited"] == 0
    [paused] = json.loads(cli("stats", "--json").stdout)["paused_accounts"]
    utc = http.until_midnight(ZoneInfo("UTC"))
    assert abs(paused["seconds_left"] - utc) < 120  # UTC's midnight, not Tokyo's


def test_reads_do_not_spend_the_write_allowance(cli, pd_shop, pd_emulator):
    pd_emulator.daily_writes = 1
    for n in range(3):
        pd_emulator.seed("persons", {"name": f"P{n}"})

    result = cli("import", "--entity", "cliente", "--loja", "2")

    assert result.exit_code == 0, result.stderr
    assert "3 imported" in result.stdout
    assert json.loads(cli("stats", "--json").stdout)["paused_accounts"] == []


def test_missing_token_budget_headers_pause_nothing(cli, pd_shop, pd_emulator):
    pd_emulator.daily, pd_emulator.token_headers = 1000, False
    ids = sample_erp.add_clientes(pd_shop, 3)
    php_enqueue(pd_shop, ids, loja=2)

    cli("sync")

    assert {r[1] for r in queue_rows(pd_shop)} == {"completed"}
    assert json.loads(cli("stats", "--json").stdout)["paused_accounts"] == []


def test_emulator_is_as_strict_as_v2(pd_emulator):
    import requests

    headers = {"x-api-token": pd_emulator.credentials["api_token"]}
    url = f"{pd_emulator.url}/api/v2"
    deal = requests.post(f"{url}/deals", json={"title": "T", "value": "10.5"}, headers=headers)
    assert deal.status_code == 400 and "value" in deal.json()["error"]
    deal = requests.post(f"{url}/deals", json={"title": "T", "person_id": 999}, headers=headers)
    assert deal.status_code == 400 and "Person with id 999" in deal.json()["error"]

    pd_emulator.seed("persons", {"name": "Ana", "emails": [{"value": "ana@x.com"}]})
    found = requests.get(
        f"{url}/itemSearch",
        params={"term": "ana@x.com", "item_types": "person", "fields": "email"},
        headers=headers,
    ).json()
    assert [i["item"]["type"] for i in found["data"]["items"]] == ["person"]

    statuses = [
        requests.get(f"{url}/persons/search", params={"term": "ana"}, headers=headers).status_code
        for _ in range(12)
    ]
    # 10 searches per 2 s, the itemSearch above included
    assert statuses[:9] == [200] * 9 and 429 in statuses[9:]


def test_a_sale_s_items_become_its_deal_s_products(cli, pd_shop, pd_emulator):
    [pid] = sample_erp.add_produtos(pd_shop, 1)
    [cid] = sample_erp.add_clientes(pd_shop, 1)
    php_enqueue(pd_shop, [pid], entidade="produto", loja=2)
    php_enqueue(pd_shop, [cid], loja=2)
    cli("sync")
    sale = sample_erp.add_venda(pd_shop, "V-1", [(pid, 2, 30.0)], cliente_id=cid)
    php_enqueue(pd_shop, [sale], entidade="venda", loja=2)

    cli("sync")

    [product] = pd_emulator.records["products"].values()
    [deal] = pd_emulator.records["deals"].values()
    attached = list(pd_emulator.records["deal_products"].values())
    assert [(p["deal_id"], p["product_id"], p["quantity"], p["item_price"]) for p in attached] == [
        (deal["id"], product["id"], 2.0, 30.0)
    ]

    with pd_shop.begin() as conn:  # the ERP changes the sale's items: the deal follows
        conn.execute(sa.text("UPDATE vendas_itens SET quantidade = 3, valor_total = 90"))
        conn.execute(sa.text("UPDATE vendas SET valor_total = 90"))
    php_enqueue(pd_shop, [sale], entidade="venda", loja=2)
    cli("sync")

    attached = list(pd_emulator.records["deal_products"].values())
    assert [(p["quantity"], p["sum"]) for p in attached] == [(3.0, 90.0)]
    assert {r[1] for r in queue_rows(pd_shop)} == {"completed"}


def test_a_sale_with_more_than_100_items_replaces_every_deal_product(cli, pd_shop, pd_emulator):
    """POST …/products/bulk takes 100 at most, DELETE …/products 100 ids at most (and
    without ids only the first 100): a sale of 130 items keeps no stale line."""
    products = sample_erp.add_produtos(pd_shop, 130)
    [cid] = sample_erp.add_clientes(pd_shop, 1)
    php_enqueue(pd_shop, products, entidade="produto", loja=2)
    php_enqueue(pd_shop, [cid], loja=2)
    cli("sync")
    cli("sync")  # at most 100 items a run
    sale = sample_erp.add_venda(pd_shop, "V-130", [(p, 1, 2.0) for p in products], cliente_id=cid)
    php_enqueue(pd_shop, [sale], entidade="venda", loja=2)
    assert cli("sync").exit_code == 0
    [deal] = pd_emulator.records["deals"].values()
    assert (len(pd_emulator.records["deal_products"]), deal["value"]) == (130, 260.0)

    with pd_shop.begin() as conn:  # every item's price changes: every line is new
        conn.execute(sa.text("UPDATE vendas_itens SET valor_venda = 3, valor_total = 3"))
        conn.execute(sa.text("UPDATE vendas SET valor_total = 390, valor_produtos = 390"))
    php_enqueue(pd_shop, [sale], entidade="venda", loja=2)
    assert cli("sync").exit_code == 0

    lines = list(pd_emulator.records["deal_products"].values())
    assert (len(lines), {line["item_price"] for line in lines}) == (130, {3.0})
    assert pd_emulator.records["deals"][str(deal["id"])]["value"] == 390.0
    deletes = [e for e in pd_emulator.exchanges if e.method == "DELETE"]
    assert [len(e.query["ids"][0].split(",")) for e in deletes] == [100, 30]


def test_an_unchanged_sale_sends_no_product_or_discount_write(
    cli, pd_freight, pd_shop, pd_emulator
):
    [pid] = sample_erp.add_produtos(pd_shop, 1)
    [cid] = sample_erp.add_clientes(pd_shop, 1)
    php_enqueue(pd_shop, [pid], entidade="produto", loja=2)
    php_enqueue(pd_shop, [cid], loja=2)
    cli("sync")
    sale = sample_erp.add_venda(
        pd_shop,
        "V-2",
        [(pid, 2, 30.0)],
        frete=5.0,
        cliente_id=cid,
        desconto_valor=1.5,
        valor_total=63.5,
    )
    php_enqueue(pd_shop, [sale], entidade="venda", loja=2)
    cli("sync")
    [deal] = pd_emulator.records["deals"].values()
    assert deal["value"] == 63.5  # 60 + 5 freight − 1.50
    with pd_shop.begin() as conn:  # a change outside the money: the deal's close date
        conn.execute(sa.text("UPDATE vendas SET data_venda = '2026-12-01'"))
    before = len(pd_emulator.exchanges)

    php_enqueue(pd_shop, [sale], entidade="venda", loja=2)
    cli("sync")

    writes = [e for e in pd_emulator.exchanges[before:] if e.method != "GET"]
    assert [(e.method, e.path) for e in writes] == [("PATCH", f"/api/v2/deals/{deal['id']}")]
