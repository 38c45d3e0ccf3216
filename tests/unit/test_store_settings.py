"""``crm_cli.store_settings``: what each known store setting may hold."""

from __future__ import annotations

import pytest

from crm_cli.providers.registry import get_provider
from crm_cli.store_settings import problem, stored_problems

GESTAO_CLICK = get_provider("gestao_click").settings
PIPEDRIVE = get_provider("pipedrive").settings
BLING = get_provider("bling").settings


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("api_base_url", "https://api.example.com/v1"),
        ("rate_limit_per_second", 0),
        ("rate_limit_per_second", 2.5),
        ("daily_limit", 30_000),
        ("timeout_seconds", 0.5),
        ("company_time_zone", "America/Sao_Paulo"),
        ("webhook_url", "http://erp.local/hook"),
        ("api_base_url", "https://api.example.com/v1?pagina=1"),
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
        ("rate_limit_per_second", float("nan"), "must be a finite number"),
        ("timeout_seconds", float("inf"), "must be a finite number"),
        ("api_base_url", "https://api.example.com/v1?access_token=abc", "secret in its query"),
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
    ("provider", "key", "value", "ok"),
    [
        (PIPEDRIVE, "freight_product_id", 9000, True),
        (PIPEDRIVE, "freight_product_id", 0, False),
        (PIPEDRIVE, "freight_product_id", "frete", False),
        (PIPEDRIVE, "freight_product_id", 1.5, False),
        (BLING, "forma_pagamento_id", 12, True),
        (BLING, "forma_pagamento_id", "abc", False),  # Bling's ids are integers
        (GESTAO_CLICK, "forma_pagamento_id", "640517", True),  # GestãoClick's are text
        (GESTAO_CLICK, "forma_pagamento_id", " ", False),
        (GESTAO_CLICK, "situacoes_venda", {"1": "3", "2": 7}, True),
        (GESTAO_CLICK, "situacoes_venda", {}, False),
        (GESTAO_CLICK, "situacoes_venda", {"1": None}, False),
        (PIPEDRIVE, "company_domain", "", False),
    ],
)
def test_each_provider_checks_its_own_settings(provider, key, value, ok):
    assert (problem(key, value, provider) is None) is ok


def test_a_providers_bad_stored_setting_is_named():
    assert stored_problems({"forma_pagamento_id": "abc"}, BLING) == [
        "forma_pagamento_id must be a whole number, got 'abc'"
    ]
