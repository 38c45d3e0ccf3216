"""Bling through the whole sync path against its emulator: OAuth rotation, re-authorisation."""

from __future__ import annotations

import json
import time

import pytest
import sqlalchemy as sa

from crm_cli.credentials import CredentialCipher
from crm_cli.demo import sample_erp
from crm_cli.errors import RateLimited, ValidationFailed
from crm_cli.integrations import Integracoes
from crm_cli.services.service_crm import ServiceCrm
from crm_cli.settings import load_settings
from tests.integration.support import (
    SECRET,
    php_enqueue,
    queue_rows,
    sync_back_renamed_product_and_sale,
)


def stored_credentials(database, loja=3) -> dict:
    return (
        Integracoes(database, CredentialCipher(SECRET, "JWT_SECRET"))
        .obter_configuracao(loja)
        .credenciais
    )


def test_clients_products_sales_sync_both_ways(cli, bling_shop, bling_emulator):
    [cid] = sample_erp.add_clientes(bling_shop, 1)
    [pid] = sample_erp.add_produtos(bling_shop, 1)
    php_enqueue(bling_shop, [cid], loja=3)
    php_enqueue(bling_shop, [pid], entidade="produto", loja=3)
    cli("sync")
    with bling_shop.connect() as conn:
        contact_id = conn.execute(sa.text("SELECT external_id FROM clientes")).scalar()
        product_id = conn.execute(sa.text("SELECT external_id FROM produtos")).scalar()
    sale = sample_erp.add_venda(
        bling_shop, "1001", [(pid, 2, 20.0)], frete=10.0, cliente_external_id=contact_id
    )
    php_enqueue(bling_shop, [sale], entidade="venda", loja=3)

    result = cli("sync")

    assert result.exit_code == 0, result.stderr
    assert {r[1] for r in queue_rows(bling_shop)} == {"completed"}
    assert bling_emulator.stats()["creates"] == {"contatos": 1, "produtos": 1, "pedidos/vendas": 1}
    [order] = bling_emulator.records["pedidos/vendas"].values()
    assert order["contato"]["id"] == int(contact_id)  # and Bling adds its nome
    assert [(i["produto"], i["quantidade"], i["valor"]) for i in order["itens"]] == [
        ({"id": int(product_id)}, 2.0, 20.0)
    ]
    assert (order["total"], [p["valor"] for p in order["parcelas"]]) == (50.0, [50.0])
    assert bling_emulator.counters["token:refresh_token"] == 1  # one token for the whole day

    contact = bling_emulator.records["contatos"][contact_id]
    contact["nome"] = "Nome no Bling"  # and back: CRM → ERP
    php_enqueue(bling_shop, [cid], loja=3, direcao="crm_para_ecletech")
    cli("sync")
    with bling_shop.connect() as conn:
        assert conn.execute(sa.text("SELECT nome FROM clientes")).scalar() == "Nome no Bling"


def test_import_pages_until_a_short_page(cli, bling_shop, bling_emulator):
    for n in range(250):
        bling_emulator.seed(
            "contatos", {"nome": f"C{n}", "numeroDocumento": f"{n:011d}", "tipo": "F"}
        )

    result = cli("import", "--entity", "cliente", "--loja", "3")

    assert "250 imported, 0 updated, 250 inserted" in result.stdout


def test_refreshed_tokens_are_saved_encrypted_at_once(cli, bling_shop, bling_emulator):
    ServiceCrm(bling_shop, load_settings()).client(3).listar("cliente")

    saved = stored_credentials(bling_shop)
    assert saved["refresh_token"] != bling_emulator.CREDENTIALS["refresh_token"]  # rotated
    assert saved["refresh_token"] in bling_emulator.refresh_tokens
    assert saved["expires_at"] > time.time() + 3600
    with bling_shop.connect() as conn:
        blob = conn.execute(sa.text("SELECT credenciais FROM crm_integracoes")).scalar()
    assert saved["access_token"] not in blob


def test_a_401_refreshes_once_and_retries(cli, bling_shop, bling_emulator):
    Integracoes(bling_shop, CredentialCipher(SECRET, "JWT_SECRET")).atualizar_credenciais(
        3, lambda c: {**c, "access_token": "revoked-by-bling", "expires_at": time.time() + 9999}
    )

    records = ServiceCrm(bling_shop, load_settings()).client(3).listar("cliente").records

    assert records == []
    assert bling_emulator.counters["token:refresh_token"] == 1
    assert bling_emulator.stats()["by_status"]["401"] == 1


REQUEST_ONCE = """
from crm_cli.services.service_crm import ServiceCrm
from crm_cli.settings import load_settings
from crm_cli.db.backends import open_database
settings = load_settings()
ServiceCrm(open_database(settings.database_url), settings).client(3).listar("cliente")
"""


def test_two_processes_never_spend_the_same_refresh_token(cli, bling_shop, bling_emulator, db_url):
    import os
    import subprocess
    import sys

    env = {**os.environ, "CRM_DATABASE_URL": db_url, "JWT_SECRET": SECRET}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", REQUEST_ONCE], env=env, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    errors = [p.communicate(timeout=60)[1] for p in procs]

    assert [p.returncode for p in procs] == [0, 0], errors
    assert bling_emulator.counters["token:refresh_token"] == 1
    assert bling_emulator.stats()["by_status"].get("400", 0) == 0  # no refused refresh


def test_a_refused_refresh_token_asks_for_reauthorisation(cli, bling_shop, bling_emulator):
    bling_emulator.revoke_refresh_tokens()
    ids = sample_erp.add_clientes(bling_shop, 2)
    php_enqueue(bling_shop, ids, loja=3)

    result = cli("sync")

    assert result.exit_code == 0
    assert queue_rows(bling_shop, "status", "tentativas") == [("pending", 0)] * 2
    check = cli("test-connection", "--loja", "3")
    assert check.exit_code == 1
    assert check.stdout.startswith("FAIL bling: re-authorization needed — loja 3")
    stats = json.loads(cli("stats", "--json").stdout)
    assert stats["reauthorization_needed"][0]["id_loja"] == 3

    code = bling_emulator.issue_code()
    authorised = cli("config", "bling-authorize", "--loja", "3", input=code + "\n")
    assert authorised.exit_code == 0, authorised.stderr
    assert "/oauth/authorize?response_type=code&client_id=demo-client-id" in authorised.stdout
    assert code not in authorised.stdout
    assert cli("test-connection", "--loja", "3").stdout.startswith("OK bling")
    with bling_shop.begin() as conn:  # time travel past the items' wait
        conn.execute(sa.text("UPDATE crm_sync_queue SET proximo_retry = NULL"))
    cli("sync")
    assert [r[1] for r in queue_rows(bling_shop)] == ["completed", "completed"]


def test_a_used_authorisation_code_is_refused(cli, bling_shop, bling_emulator):
    code = bling_emulator.issue_code()
    assert cli("config", "bling-authorize", "--loja", "3", input=code).exit_code == 0

    again = cli("config", "bling-authorize", "--loja", "3", input=code)

    assert again.exit_code == 1
    assert "Bling refused the authorization code (invalid_grant)" in again.stderr


@pytest.mark.sends_refused_requests
def test_errors_map_to_kinds(cli, bling_shop, bling_emulator):
    client = ServiceCrm(bling_shop, load_settings()).client(3)

    with pytest.raises(ValidationFailed, match="MISSING_REQUIRED_FIELD_ERROR"):
        client.criar("cliente", {"nome": ""})
    bling_emulator.add_fault("429")
    with pytest.raises(RateLimited) as caught:
        client.listar("cliente")
    assert caught.value.retry_after == pytest.approx(1.0, abs=0.2)  # period: second


def test_products_and_orders_come_back_to_the_erp(cli, bling_shop, bling_emulator):
    [pid] = sample_erp.add_produtos(bling_shop, 1)
    contact = bling_emulator.seed("contatos", {"nome": "C", "tipo": "F"})
    sample_erp.add_venda(bling_shop, "77", [(pid, 1, 10.0)], cliente_external_id=contact["id"])
    php_enqueue(bling_shop, [pid], entidade="produto", loja=3)
    php_enqueue(bling_shop, [1], entidade="venda", loja=3)
    cli("sync")
    [product] = bling_emulator.records["produtos"].values()
    [order] = bling_emulator.records["pedidos/vendas"].values()
    product["nome"], product["preco"] = "Renamed", 42.5
    order["total"] = 123.45

    sync_back_renamed_product_and_sale(cli, bling_shop, 3, pid)


def test_import_from_list_items_never_blanks_what_the_list_does_not_carry(
    cli, bling_shop, bling_emulator
):
    contact = bling_emulator.seed(
        "contatos",
        {
            "nome": "Acme Comércio Ltda",
            "fantasia": "Acme",
            "tipo": "J",
            "numeroDocumento": "11222333000181",
            "email": "crm@acme.example",
            "situacao": "A",
        },
    )
    with bling_shop.begin() as conn:  # the ERP's own copy, linked to that contact
        conn.execute(
            sa.text(
                "INSERT INTO clientes (id, tipo_pessoa, nome, cnpj, email, external_id) "
                "VALUES (1, 'PJ', 'Acme', '11222333000181', 'erp@acme.example', :x)"
            ),
            {"x": str(contact["id"])},
        )

    result = cli("import", "--entity", "cliente", "--loja", "3")

    assert result.exit_code == 0, result.stderr
    with bling_shop.connect() as conn:
        row = conn.execute(sa.text("SELECT tipo_pessoa, email, cnpj FROM clientes")).one()
    # the list item has no email and no tipo: the ERP keeps its own (not None, not PF)
    assert tuple(row) == ("PJ", "erp@acme.example", "11222333000181")


def test_orders_keep_the_erps_code_whole_and_a_lost_create_finds_its_own(
    cli, bling_shop, bling_emulator
):
    """ "A10" and "B10" are two orders, "2024/001" is not 2024001: the code goes whole in
    numeroLoja, and the order found after a lost answer is the one with that code."""
    [cid] = sample_erp.add_clientes(bling_shop, 1)
    [pid] = sample_erp.add_produtos(bling_shop, 1)
    php_enqueue(bling_shop, [cid], loja=3)
    php_enqueue(bling_shop, [pid], entidade="produto", loja=3)
    cli("sync")
    sales = {
        code: sample_erp.add_venda(bling_shop, code, [(pid, 1, 10.0)], cliente_id=cid)
        for code in ("A10", "B10", "2024/001")
    }
    php_enqueue(bling_shop, [sales["A10"], sales["2024/001"]], entidade="venda", loja=3)
    cli("sync")
    lost = []

    def lose_the_answer(resource, reply):
        if resource == "pedidos/vendas" and not lost:
            lost.append(str(reply.body["data"]["id"]))
            raise ConnectionError("the answer is lost on the way back")

    bling_emulator.on_create = lose_the_answer
    php_enqueue(bling_shop, [sales["B10"]], entidade="venda", loja=3)
    cli("sync")
    bling_emulator.on_create = None
    with bling_shop.begin() as conn:  # time travel past the item's backoff
        conn.execute(sa.text("UPDATE crm_sync_queue SET proximo_retry = NULL"))
    cli("sync")

    orders = bling_emulator.records["pedidos/vendas"]
    assert sorted(o["numeroLoja"] for o in orders.values()) == ["2024/001", "A10", "B10"]
    assert {o["numeroLoja"]: o.get("numero") for o in orders.values()}["2024/001"] != 2024001
    with bling_shop.connect() as conn:
        linked = dict(
            conn.execute(
                sa.text("SELECT codigo, external_id FROM vendas WHERE external_id IS NOT NULL")
            ).all()
        )
    assert linked["B10"] == lost[0]  # its own lost create, not A10's order
    assert {orders[linked[code]]["numeroLoja"] for code in linked} == set(linked)
    assert {r[1] for r in queue_rows(bling_shop)} == {"completed"}


def test_a_lost_create_of_a_product_without_stock_is_found_not_duplicated(
    cli, bling_shop, bling_emulator
):
    """GET /produtos lists positive stock only unless filtroSaldoEstoque says (and
    "Últimos incluídos" unless criterio says): the lookup reads every state."""
    [pid] = sample_erp.add_produtos(bling_shop, 1)
    with bling_shop.connect() as conn:
        code = conn.execute(sa.text("SELECT codigo_interno FROM produtos")).scalar()
    made = bling_emulator.seed(  # the lost attempt's product: no stock yet
        "produtos", {"nome": "Produto 1", "codigo": code, "estoque": {"saldoVirtualTotal": 0}}
    )
    php_enqueue(bling_shop, [pid], entidade="produto", loja=3)
    with bling_shop.begin() as conn:  # a second attempt: the first may have created it
        conn.execute(sa.text("UPDATE crm_sync_queue SET tentativas = 1"))

    assert cli("sync").exit_code == 0

    assert queue_rows(bling_shop, "status") == [("completed",)]
    assert len(bling_emulator.records["produtos"]) == 1
    with bling_shop.connect() as conn:
        assert conn.execute(sa.text("SELECT external_id FROM produtos")).scalar() == str(made["id"])
    lookups = [e.query for e in bling_emulator.exchanges if e.method == "GET"]
    assert {q["filtroSaldoEstoque"][0] for q in lookups} >= {"0", "1", "2"}
    assert {q["criterio"][0] for q in lookups} == {"5"}


def test_import_reads_every_contact_not_only_the_latest(cli, bling_shop, bling_emulator):
    """GET /contatos lists "Últimos incluídos" unless criterio says "Todos" (1)."""
    for n in range(130):  # more than one page of the newest
        bling_emulator.seed("contatos", {"nome": f"C{n}", "numeroDocumento": f"{n:011d}"})

    result = cli("import", "--loja", "3", "--entity", "cliente")

    assert result.exit_code == 0, result.stderr
    with bling_shop.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM clientes")).scalar() == 130


def test_parcelas_go_with_the_accounts_default_payment_form(cli, bling_shop, bling_emulator):
    """VendasParcelaDTO requires formaPagamento: without forma_pagamento_id the store's
    sales take the account's default one (padrao 1), asked once."""
    [cid] = sample_erp.add_clientes(bling_shop, 1)
    [pid] = sample_erp.add_produtos(bling_shop, 1)
    php_enqueue(bling_shop, [cid], loja=3)
    php_enqueue(bling_shop, [pid], entidade="produto", loja=3)
    cli("sync")
    sales = [
        sample_erp.add_venda(bling_shop, f"V{n}", [(pid, 1, 10.0)], cliente_id=cid) for n in (1, 2)
    ]
    php_enqueue(bling_shop, sales, entidade="venda", loja=3)

    assert cli("sync").exit_code == 0

    orders = list(bling_emulator.records["pedidos/vendas"].values())
    assert [o["parcelas"][0]["formaPagamento"] for o in orders] == [{"id": 1001}] * 2
    asked = [e for e in bling_emulator.exchanges if e.path.endswith("/formas-pagamentos")]
    assert len(asked) == 1
