"""``crm_cli.store_settings``: what each known store setting may hold."""

from __future__ import annotations

import pytest

from crm_cli.store_settings import problem, stored_problems


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("api_base_url", "https://api.example.com/v1"),
        ("rate_limit_per_second", 0),
        ("rate_limit_per_second", 2.5),
        ("daily_limit", 30_000),
        ("timeout_seconds", 0.5),
        ("company_time_zone", "America/Sao_Paulo"),
        ("situacoes_venda", {"1": "3", "2": 7}),
        ("forma_pagamento_id", 12),
        ("webhook_url", "http://erp.local/hook"),
        ("some_plugin_key", "anything"),  # unknown keys are the provider's business
    ],
)
def test_good_values_pass(key, value):
    assert problem(key, value) is None


@pytest.mark.parametrize(
    ("key", "value", "says"),
    [
        ("api_base_url", "ftp://x", "http(s) URL"),
        ("api_base_url", "https://user:pw@api.example.com", "must not carry a user or password"),
        ("rate_limit_per_second", "3", "must be a number"),
        ("rate_limit_per_second", True, "must be a number"),
        ("rate_limit_per_second", 5000, "<= 1000"),
        ("timeout_seconds", 0, "> 0"),
        ("daily_limit", 1.5, "whole number"),
        ("company_time_zone", "Mars/Base", "time zone name"),
        ("situacoes_venda", {}, "must map the ERP's ids"),
        ("situacoes_venda", {"1": None}, "entry '1'"),
        ("forma_pagamento_id", " ", "an id of the CRM account"),
        ("api_token", "abc", "looks like a secret"),
        ("proxy", "http://u:secret@proxy:3128", "URL with a password"),
    ],
)
def test_bad_values_say_what_is_wrong(key, value, says):
    assert says in (problem(key, value) or "")


def test_stored_settings_are_checked_by_the_same_rules():
    assert stored_problems({"timeout_seconds": 30, "unknown": object()}) == []
    assert stored_problems({"timeout_seconds": "30", "daily_limit": -1}) == [
        "daily_limit must be between 0 and 100000000, got -1",
        "timeout_seconds must be a number, got '30'",
    ]


@pytest.mark.parametrize(
    ("value", "ok"), [(9000, True), (0, False), ("frete", False), (1.5, False)]
)
def test_the_freight_product_is_a_pipedrive_product_id(value, ok):
    assert (problem("freight_product_id", value) is None) is ok
