"""Pipedrive's handlers: ERP rows to API v2 records and back (pure functions)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from crm_cli.errors import ValidationFailed
from crm_cli.providers.pipedrive.handlers import atividade, cliente, produto, venda


def test_handlers_map_the_erp_columns():
    person = cliente.to_external(
        {
            "tipo_pessoa": "PJ",
            "nome": "Loja",
            "razao_social": "Loja Ltda",
            "email": "x@y.com",
            "celular": "(11) 98765-4321",
            "cnpj": "12.345.678/0001-95",
        }
    )
    assert person == {
        "name": "Loja",  # the trade name: it comes back as nome
        "emails": [{"value": "x@y.com", "primary": True, "label": "work"}],
        "phones": [{"value": "11987654321", "primary": True, "label": "mobile"}],
        "_document": "12345678000195",
    }
    assert cliente.to_internal({**person, "emails": ["x@y.com"]})["email"] == "x@y.com"
    assert produto.to_external({"nome": "P", "codigo_interno": "C1", "valor_venda": 9.5})[
        "prices"
    ] == [{"currency": "BRL", "price": 9.5, "cost": 0.0}]
    deal = venda.to_external({"codigo": "77", "valor_total": 10, "cliente_external_id": "5"})
    assert (deal["title"], deal["person_id"], deal["value"]) == ("Venda 77", 5, 10.0)
    assert venda.to_internal(deal)["codigo"] == "77"
    assert (
        atividade.to_external({"titulo": "Ligar", "data_vencimento": "2026-12-01"})["due_date"]
        == "2026-12-01"
    )
    assert atividade.lookup_params({"titulo": "x"}) is None


def test_an_activity_names_its_person_as_primary_participant_and_keeps_local_time():
    activity = atividade.to_external(
        {
            "titulo": "Ligar",
            "tipo": "Ligação",
            "data_vencimento": "2026-12-01",
            "hora_vencimento": "22:30:00",  # the ERP's clock
            "cliente_external_id": "42",
        }
    )
    assert "person_id" not in activity  # read-only in API v2
    assert activity["participants"] == [{"person_id": 42, "primary": True}]
    assert (activity["due_date"], activity["due_time"]) == ("2026-12-01", "22:30")
    assert activity["type"] == "call"
    back = atividade.to_internal(
        {
            **activity,
            "due_time": "22:30:00",
            "participants": [{"person_id": 42, "primary": True}],
        }
    )
    assert back["cliente_external_id"] == "42"
    assert (str(back["data_vencimento"]), back["hora_vencimento"]) == ("2026-12-01", "22:30:00")


@pytest.mark.parametrize(
    ("zone", "local", "utc"),
    [
        ("America/Sao_Paulo", ("2026-12-01", "22:30:00"), ("2026-12-02", "01:30")),  # UTC-3
        ("Europe/Lisbon", ("2026-07-01", "00:15:00"), ("2026-06-30", "23:15")),  # summer, UTC+1
        ("UTC", ("2026-01-01", "09:00:00"), ("2026-01-01", "09:00")),
    ],
)
def test_due_times_go_to_pipedrive_in_utc_from_the_zone_the_client_is_given(zone, local, utc):
    assert atividade.due_in_utc(*local, ZoneInfo(zone)) == utc
    assert atividade.due_in_local(*utc, ZoneInfo(zone)) == local


@pytest.mark.parametrize(
    ("tipo", "key"),
    [("call", "call"), ("Reunião", "meeting"), ("E-mail", "email"), ("Visita técnica", "task")],
)
def test_activity_types_become_pipedrive_type_keys(tipo, key):
    assert atividade.type_key(tipo) == key


SALE = {  # items 49.00 + 3.33, freight 12.50, discount 1.55
    "codigo": "7",
    "valor_frete": "12.50",
    "valor_total": "63.28",
    "itens": [
        {
            "produto_external_id": "5",
            "quantidade": "2.5",
            "valor_venda": "19.90",
            "desconto_valor": "0.75",
            "valor_total": "49.00",
        },
        {
            "produto_external_id": "6",
            "quantidade": "0.333",
            "valor_venda": "9.99",
            "valor_total": "3.33",
        },  # 3.32667, rounded up by the ERP
    ],
}


def test_a_sale_goes_as_products_whose_sums_are_its_items_freight_and_a_deal_discount():
    deal = venda.to_external(SALE)

    assert "value" not in deal  # Pipedrive works it out from the products
    assert [(p["discount"], p["discount_type"]) for p in deal["_products"]] == [
        (0.75, "amount"),
        (0.0, "amount"),  # never negative
    ]
    assert deal[venda.FREIGHT] == 12.5
    # the products' sums as Pipedrive computes them (49.00 + 3.32667) + 12.50 − 63.28:
    # the sale's 1.55 less the fraction the ERP rounded its second item up by
    assert deal[venda.DISCOUNT] == pytest.approx(1.54667)


def test_a_deal_read_back_gives_the_erp_its_total_freight_and_discount():
    record = {
        "title": "Venda 7",
        "value": 63.28,
        "products": [
            {
                "product_id": 5,
                "quantity": 2.5,
                "item_price": 19.9,
                "discount": 0.75,
                "discount_type": "amount",
                "sum": 49.0,
            },
            {
                "product_id": 6,
                "quantity": 0.333,
                "item_price": 9.99,
                "discount": 0,
                "discount_type": "amount",
                "sum": 3.33,
            },
        ],
        venda.FREIGHT: 12.5,
    }

    row = venda.to_internal(record)

    assert [str(row[k]) for k in ("valor_total", "valor_frete", "desconto_valor")] == [
        "63.28",
        "12.50",
        "1.55",
    ]
    assert [str(item["desconto_valor"]) for item in row["itens"]] == ["0.75", "0.00"]


def test_a_sale_without_items_goes_with_its_total_as_the_value():
    assert venda.to_external({"codigo": "8", "valor_total": "10", "itens": []})["value"] == 10.0


def test_a_total_above_the_products_and_freight_is_refused():
    with pytest.raises(ValidationFailed, match=r"valor_total 100.00 is more than .*\(64.83\)"):
        venda.to_external({**SALE, "valor_total": "100.00"})
