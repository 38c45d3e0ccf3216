"""``crm_cli.engine.conflicts``: what each strategy keeps of a CRM record coming back, and
time compared as time."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from crm_cli.engine import conflicts
from crm_cli.engine.conflicts import Clocks, crm_modified_at, instant, resolve
from crm_cli.settings import DEFAULT_ENTITIES

CLIENTE = DEFAULT_ENTITIES["cliente"]  # updated_at: modificado_em
ROW = {"id": 7, "external_id": "42", "nome": "Nome local", "email": None, "modificado_em": None}
INCOMING = {"external_id": "42", "nome": "Nome no CRM", "email": "crm@example.com"}
SAO_PAULO, UTC = ZoneInfo("America/Sao_Paulo"), ZoneInfo("UTC")
# the PHP application's clock beside Pipedrive's (UTC) and GestãoClick's (São Paulo)
PIPEDRIVE = Clocks(erp=SAO_PAULO, crm=UTC)
GESTAO_CLICK = Clocks(erp=SAO_PAULO, crm=SAO_PAULO)


class NoTimeHandler:
    """A handler without ``updated_at``: the record's own time fields are read."""


def strategy(name: str):
    return replace(CLIENTE, conflict=name)


def test_crm_vence_takes_every_field():
    changes, why = resolve(strategy("crm_vence"), NoTimeHandler(), ROW, INCOMING, {}, PIPEDRIVE)
    assert changes == {"nome": "Nome no CRM", "email": "crm@example.com"}  # the id is the same
    assert why == "updated (crm_vence)"


def test_ecletech_vence_keeps_the_erp_row_and_only_links_it():
    row = {**ROW, "external_id": None}
    changes, why = resolve(
        strategy("ecletech_vence"), NoTimeHandler(), row, INCOMING, {}, PIPEDRIVE
    )
    assert changes == {"external_id": "42"}
    assert why.startswith("kept (ecletech_vence")


def test_mesclar_fills_only_empty_fields():
    changes, why = resolve(strategy("mesclar"), NoTimeHandler(), ROW, INCOMING, {}, PIPEDRIVE)
    assert changes == {"email": "crm@example.com"}
    assert why == "merged (1 empty field(s) filled)"


def test_values_the_row_holds_already_are_no_change():
    row = {**ROW, "external_id": "42", "nome": "Nome no CRM"}
    changes, _why = resolve(strategy("crm_vence"), NoTimeHandler(), row, INCOMING, {}, PIPEDRIVE)
    assert changes == {"email": "crm@example.com"}


@pytest.mark.parametrize(
    ("local", "incoming", "same"),
    [
        (dt.date(2026, 5, 1), "2026-05-01", True),
        (Decimal("10.50"), 10.5, True),
        (Decimal("10.50"), Decimal("10.5"), True),
        (1, "1", True),
        (None, "", True),
        ("", None, True),
        (None, "x", False),
        (Decimal("10.50"), "abc", False),
        ("Nome", "nome", False),
        (0, None, False),
    ],
)
def test_same_value(local, incoming, same):
    assert conflicts.same_value(local, incoming) is same


def newer_side(local, record, clocks) -> str:
    row = {**ROW, "modificado_em": local}
    changes, _why = resolve(
        strategy("mais_recente"), NoTimeHandler(), row, INCOMING, record, clocks
    )
    return "crm" if "nome" in changes else "erp"


@pytest.mark.parametrize(
    ("local", "remote", "newer"),
    [
        # an ERP edit at 13:30 in São Paulo is 16:30Z: newer than a CRM edit at 15:00Z
        (dt.datetime(2026, 5, 1, 13, 30), "2026-05-01T15:00:00Z", "erp"),
        (dt.datetime(2026, 5, 1, 13, 30), "2026-05-01T16:31:00Z", "crm"),  # a minute later
        # across midnight: 00:30 local on the 2nd is 03:30Z, after 02:00Z on the 2nd
        (dt.datetime(2026, 5, 2, 0, 30), "2026-05-02T02:00:00Z", "erp"),
        (dt.datetime(2026, 5, 1, 23, 50), "2026-05-02T02:45:00Z", "erp"),  # it is 02:50Z
        (dt.datetime(2026, 5, 1, 23, 50), "2026-05-02T02:51:00Z", "crm"),
        (None, "2026-05-01T15:00:00Z", "crm"),  # the ERP row never says when it changed
    ],
)
def test_mais_recente_compares_pipedrives_utc_with_the_erps_sao_paulo(local, remote, newer):
    assert newer_side(local, {"update_time": remote}, PIPEDRIVE) == newer


@pytest.mark.parametrize(
    ("local", "remote", "newer"),
    [
        (dt.datetime(2026, 5, 1, 13, 30), "2026-05-01 13:29:00", "erp"),  # same clock
        (dt.datetime(2026, 5, 1, 13, 30), "2026-05-01 13:31:00", "crm"),
    ],
)
def test_mais_recente_on_the_same_clock(local, remote, newer):
    assert newer_side(local, {"modificado_em": remote}, GESTAO_CLICK) == newer


def test_across_a_dst_change_the_instants_decide():
    """New York falls back on 2026-11-01: 01:30 happens twice; 01:30 EST (the second,
    fold=1) is 06:30Z. An ERP on that clock beside a UTC CRM."""
    new_york = Clocks(erp=ZoneInfo("America/New_York"), crm=UTC)
    second_half_past_one = dt.datetime(2026, 11, 1, 1, 30, fold=1)
    assert (
        newer_side(second_half_past_one, {"update_time": "2026-11-01T06:00:00Z"}, new_york) == "erp"
    )
    assert (
        newer_side(second_half_past_one, {"update_time": "2026-11-01T06:45:00Z"}, new_york) == "crm"
    )
    # spring forward: 2026-03-08 03:30 EDT is 07:30Z
    assert (
        newer_side(
            dt.datetime(2026, 3, 8, 3, 30), {"update_time": "2026-03-08T07:15:00Z"}, new_york
        )
        == "erp"
    )


def test_the_crm_time_comes_from_the_handler_when_it_knows_it():
    class Handler:
        @staticmethod
        def updated_at(record):
            return dt.datetime(2026, 1, 2, 3, 4, 5)

    assert crm_modified_at(Handler(), {"update_time": "1999-01-01"}, UTC) == dt.datetime(
        2026, 1, 2, 3, 4, 5, tzinfo=UTC
    )


def test_unreadable_crm_times_are_skipped_and_naive_ones_take_the_crms_zone():
    record = {"modificado_em": "not a time", "dataAlteracao": "2026-02-03 04:05:06"}
    assert crm_modified_at(NoTimeHandler(), record, SAO_PAULO) == dt.datetime(
        2026, 2, 3, 7, 5, 6, tzinfo=UTC
    )
    assert crm_modified_at(NoTimeHandler(), {}, UTC) is None
    assert instant("2026-02-03T04:05:06+01:00", SAO_PAULO) == dt.datetime(
        2026, 2, 3, 3, 5, 6, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("local", "incoming", "same"),
    [
        (None, Decimal("0.00"), True),  # a CRM's 0.00 discount where the ERP has none
        ("60", Decimal("60.00"), True),
        (Decimal("59.99"), Decimal("60.00"), False),
        (None, Decimal("0.01"), False),
        (None, 0, False),  # not an amount: ativo 0 is not an empty column
        ("abc", Decimal("1"), False),
    ],
)
def test_an_amount_is_unchanged_when_its_number_is(local, incoming, same):
    assert conflicts.same_amount(local, incoming) is same
