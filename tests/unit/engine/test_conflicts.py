"""``crm_cli.engine.conflicts``: what each strategy keeps of a CRM record coming back."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from crm_cli.engine.conflicts import crm_modified_at, resolve
from crm_cli.settings import DEFAULT_ENTITIES

CLIENTE = DEFAULT_ENTITIES["cliente"]  # updated_at: modificado_em
ROW = {"id": 7, "external_id": "42", "nome": "Nome local", "email": None, "modificado_em": None}
INCOMING = {"external_id": "42", "nome": "Nome no CRM", "email": "crm@example.com"}


class NoTimeHandler:
    """A handler without ``updated_at``: the record's own time fields are read."""


def strategy(name: str):
    return replace(CLIENTE, conflict=name)


def test_crm_vence_takes_every_field():
    changes, why = resolve(strategy("crm_vence"), NoTimeHandler(), ROW, INCOMING, {})
    assert changes == INCOMING
    assert why == "updated (crm_vence)"


def test_ecletech_vence_keeps_the_erp_row_and_only_links_it():
    changes, why = resolve(strategy("ecletech_vence"), NoTimeHandler(), ROW, INCOMING, {})
    assert changes == {"external_id": "42"}
    assert why.startswith("kept (ecletech_vence")


def test_mesclar_fills_only_empty_fields():
    changes, why = resolve(strategy("mesclar"), NoTimeHandler(), ROW, INCOMING, {})
    assert changes == {"email": "crm@example.com", "external_id": "42"}
    assert why == "merged (1 empty field(s) filled)"


@pytest.mark.parametrize(
    ("local", "remote", "crm_wins"),
    [
        (dt.datetime(2026, 5, 1, 12, 0), "2026-05-01T11:00:00", False),  # the ERP's is newer
        (dt.datetime(2026, 5, 1, 12, 0), "2026-05-01T13:00:00", True),
        (None, "2026-05-01T13:00:00", True),  # the ERP row never says when it changed
    ],
)
def test_mais_recente_takes_the_newer_side(local, remote, crm_wins):
    row = {**ROW, "modificado_em": local}
    changes, why = resolve(
        strategy("mais_recente"), NoTimeHandler(), row, INCOMING, {"update_time": remote}
    )
    assert (changes == INCOMING) is crm_wins
    assert ("CRM's copy is newer" in why) is crm_wins


def test_the_crm_time_comes_from_the_handler_when_it_knows_it():
    class Handler:
        @staticmethod
        def updated_at(record):
            return dt.datetime(2026, 1, 2, 3, 4, 5)

    assert crm_modified_at(Handler(), {"update_time": "1999-01-01"}) == dt.datetime(
        2026, 1, 2, 3, 4, 5
    )


def test_unreadable_crm_times_are_skipped():
    record = {"modificado_em": "not a time", "dataAlteracao": "2026-02-03 04:05:06"}
    assert crm_modified_at(NoTimeHandler(), record) == dt.datetime(2026, 2, 3, 4, 5, 6)
    assert crm_modified_at(NoTimeHandler(), {}) is None
