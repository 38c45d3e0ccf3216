"""``crm_cli.engine.syncstate``: the payload hash that says "unchanged, nothing to send"."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from crm_cli.engine.syncstate import payload_hash


def test_the_same_payload_has_the_same_hash_whatever_the_key_order():
    assert payload_hash({"a": 1, "b": [1, 2]}, "9") == payload_hash({"b": [1, 2], "a": 1}, "9")


def test_any_change_changes_it():
    base = payload_hash({"nome": "A", "valor": Decimal("1.00")}, "9")
    assert payload_hash({"nome": "B", "valor": Decimal("1.00")}, "9") != base
    assert payload_hash({"nome": "A", "valor": Decimal("1.01")}, "9") != base
    assert payload_hash({"nome": "A", "valor": Decimal("1.00")}, "10") != base  # another record


def test_values_json_has_no_type_for_still_hash():
    assert len(payload_hash({"when": dt.date(2026, 1, 2), "n": Decimal("3")}, None)) == 64
