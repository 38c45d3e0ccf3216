"""Round trips: an ERP row goes to the CRM and comes back, and the ERP row is as it was.

For every entity of every provider, with PF, PJ and foreign clients, empty
optional fields, and sales with items. What the CRM does not carry (a person
has no CPF in Pipedrive) must come back untouched: never overwritten by a value
the CRM never sent.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa

from crm_cli.demo import sample_erp
from tests.integration.support import php_enqueue, queue_rows

STORES = {"gestao_click": 1, "pipedrive": 2, "bling": 3}
TIMESTAMPS = {"cadastrado_em", "modificado_em", "created_at", "updated_at", "atualizado_em"}

CLIENTES = {
    "PF": {
        "tipo_pessoa": "PF",
        "nome": "Ana Souza",
        "cpf": "47718252620",
        "rg": "496603577",
        "data_nascimento": dt.date(1994, 10, 19),
        "telefone": "1133334444",
        "celular": "11987654321",
        "email": "ana@example.com",
        "ativo": True,
    },
    "PJ": {
        "tipo_pessoa": "PJ",
        "nome": "Loja da Esquina",
        "razao_social": "Loja da Esquina Comércio Ltda",
        "cnpj": "11222333000181",
        "inscricao_estadual": "110042490114",
        "email": "compras@loja.example",
        "ativo": True,
    },
    "ES": {"tipo_pessoa": "ES", "nome": "John Smith", "email": "john@example.org", "ativo": True},
}
PRODUTO = {
    "nome": "Caneta azul",
    "codigo_interno": "0101",
    "codigo_barra": "7891234567895",
    "estoque": Decimal("12"),
    "valor_custo": Decimal("1.50"),
    "valor_venda": Decimal("3.50"),
    "ncm": "96081000",
    "peso_liquido": Decimal("0.010"),
    "peso_bruto": Decimal("0.012"),
    "largura": Decimal("1"),
    "altura": Decimal("15"),
    "comprimento": Decimal("1"),
    "ativo": True,
}


SHOPS = {"gestao_click": "gc_store", "pipedrive": "pd_freight", "bling": "bling_shop"}


@pytest.fixture(params=list(STORES))
def provider_shop(request, erp):
    """The shop with the one store of the provider under test: its rows are that store's
    (several stores on several CRM accounts would share them: see test_stores)."""
    request.getfixturevalue(SHOPS[request.param])
    return request.param, erp


def _row(database, table: str, record_id: int) -> dict:
    with database.connect() as conn:
        row = conn.execute(sa.text(f"SELECT * FROM {table} WHERE id = :i"), {"i": record_id}).one()
    return {k: v for k, v in row._mapping.items() if k not in TIMESTAMPS}


def _round_trip(cli, database, provider: str, entidade: str, table: str, record_id: int) -> None:
    loja = STORES[provider]
    php_enqueue(database, [record_id], entidade=entidade, loja=loja)
    result = cli("sync")
    assert result.exit_code == 0, result.stderr
    before = _row(database, table, record_id)
    assert before["external_id"], queue_rows(database, "status", "erro_mensagem")

    php_enqueue(database, [record_id], entidade=entidade, loja=loja, direcao="crm_para_ecletech")
    result = cli("sync")

    assert result.exit_code == 0, result.stderr
    assert {r[0] for r in queue_rows(database, "status")} == {"completed"}
    assert _row(database, table, record_id) == before


def _insert(database, table: sa.Table, values: dict) -> int:
    with database.begin() as conn:
        return int(conn.execute(sa.insert(table).values(values)).inserted_primary_key[0])


@pytest.mark.parametrize("tipo", list(CLIENTES))
def test_a_client_comes_back_as_it_went(cli, provider_shop, tipo):
    provider, database = provider_shop
    record_id = _insert(database, sample_erp.clientes, CLIENTES[tipo])
    _round_trip(cli, database, provider, "cliente", "clientes", record_id)


def test_a_product_comes_back_as_it_went(cli, provider_shop):
    provider, database = provider_shop
    record_id = _insert(database, sample_erp.produtos, PRODUTO)
    _round_trip(cli, database, provider, "produto", "produtos", record_id)


def test_a_sale_with_items_comes_back_as_it_went(cli, provider_shop):
    provider, database = provider_shop
    loja = STORES[provider]
    client = _insert(database, sample_erp.clientes, CLIENTES["PF"])
    product = _insert(database, sample_erp.produtos, PRODUTO)
    php_enqueue(database, [client], loja=loja)
    php_enqueue(database, [product], entidade="produto", loja=loja)
    assert cli("sync").exit_code == 0
    sale = sample_erp.add_venda(  # as the PHP sale screen saves it: cliente_id only
        database, "795", [(product, 2, 3.5)], frete=5.0, cliente_id=client, situacao_venda_id=1
    )
    items_before = _items(database, sale)

    _round_trip(cli, database, provider, "venda", "vendas", sale)

    assert _items(database, sale) == items_before


def test_an_activity_comes_back_as_it_went(cli, pd_shop):
    person = _insert(pd_shop, sample_erp.clientes, CLIENTES["PF"])
    php_enqueue(pd_shop, [person], loja=2)
    assert cli("sync").exit_code == 0
    with pd_shop.connect() as conn:
        person_id = conn.execute(sa.text("SELECT external_id FROM clientes")).scalar()
    activity = _insert(
        pd_shop,
        sample_erp.atividades,
        {
            "titulo": "Ligar para Ana",
            "tipo": "call",
            "data_vencimento": dt.date(2026, 12, 10),
            "hora_vencimento": "14:30:00",
            "descricao": "Proposta",
            "concluida": False,
            "cliente_external_id": person_id,
        },
    )
    _round_trip(cli, pd_shop, "pipedrive", "atividade", "atividades", activity)


def _items(database, sale: int) -> list[dict]:
    with database.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT * FROM vendas_itens WHERE venda_id = :v ORDER BY id"), {"v": sale}
        ).all()
    return [dict(r._mapping) for r in rows]
