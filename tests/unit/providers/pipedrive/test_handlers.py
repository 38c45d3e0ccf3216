"""Pipedrive's handlers: ERP rows to API v2 records and back (pure functions)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

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
