"""A store's settings (``crm_integracoes.configuracoes``): what each known key may hold.

Checked twice, by the same rules: when an operator stores a value (``config
set``: exit 2, nothing stored) and when a run opens the store's client (the
PHP application may have written anything: the store waits for an operator,
the other stores carry on). Secrets never go here: they belong in the
encrypted credentials.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crm_cli.masking import secret_looking

Check = Callable[[Any], str | None]  # the problem with a value, or None


def _number(minimum: float, maximum: float, exclusive_min: bool = False) -> Check:
    def check(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"must be a number, got {value!r}"
        if value < minimum or (exclusive_min and value == minimum) or value > maximum:
            low = f"> {minimum:g}" if exclusive_min else f">= {minimum:g}"
            return f"must be {low} and <= {maximum:g}, got {value!r}"
        return None

    return check


def _whole(minimum: int, maximum: int) -> Check:
    def check(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int):
            return f"must be a whole number, got {value!r}"
        if not minimum <= value <= maximum:
            return f"must be between {minimum} and {maximum}, got {value!r}"
        return None

    return check


def _text(value: Any) -> str | None:
    return None if isinstance(value, str) and value.strip() else f"must be text, got {value!r}"


def _zone(value: Any) -> str | None:
    try:
        ZoneInfo(str(value))
    except (ValueError, KeyError, ZoneInfoNotFoundError):
        return f"must be a time zone name such as America/Sao_Paulo, got {value!r}"
    return None


def _url(value: Any) -> str | None:
    if not isinstance(value, str):
        return f"must be an http(s) URL, got {value!r}"
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"must be an http(s) URL such as https://api.example.com, got {value!r}"
    if parts.username or parts.password:
        return "must not carry a user or password (put secrets in the encrypted credentials)"
    return None


def _crm_id(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).strip():
        return f"must be an id of the CRM account (a number or text), got {value!r}"
    return None


def _id_map(value: Any) -> str | None:
    if not isinstance(value, Mapping) or not value:
        return f'must map the ERP\'s ids to the CRM\'s, such as {{"1": "3"}}, got {value!r}'
    for erp, crm in value.items():
        wrong = _crm_id(erp) or _crm_id(crm)
        if wrong:
            return f"entry {erp!r}: {wrong}"
    return None


KNOWN: dict[str, Check] = {
    "api_base_url": _url,
    "rate_limit_per_second": _number(0, 1000),  # 0: no pacing (tests, emulators)
    "daily_limit": _whole(0, 100_000_000),  # 0: no daily budget
    "timeout_seconds": _number(0, 300, exclusive_min=True),
    "company_domain": _text,  # Pipedrive
    "document_field": _text,  # Pipedrive: the person field holding CPF/CNPJ
    "webhook_url": _url,  # the PHP application's own
    "reauthorization_needed": _text,  # written by crm-cli (Bling refused the refresh token)
    "situacoes_venda": _id_map,  # GestãoClick: ERP situacao_venda_id -> situacao_id
    "vendedores": _id_map,  # a sale's seller: ERP vendedor_id -> the CRM's user id
    "forma_pagamento_id": _crm_id,  # GestãoClick and Bling: the sales' payment form
    "price_type_id": _crm_id,  # GestãoClick: valores[].tipo_id of the ERP's price
    "freight_product_id": _whole(1, 2**53),  # Pipedrive: the product of freight lines
    "company_time_zone": _zone,  # Pipedrive: the company's midnight resets its budget
}


def problem(key: str, value: Any) -> str | None:
    """What is wrong with storing ``value`` under ``key`` (None: nothing)."""
    check = KNOWN.get(key)
    if check is not None:
        return check(value)
    if secret_looking(key):
        return "looks like a secret: secrets go in the encrypted credentials"
    if isinstance(value, str) and "://" in value and urlsplit(value).password:
        return "is a URL with a password: put secrets in the encrypted credentials"
    return None


def stored_problems(settings: Mapping[str, Any]) -> list[str]:
    """What makes stored settings unusable, as ``key problem`` (only the keys crm-cli reads)."""
    found = []
    for key, check in KNOWN.items():
        value = settings.get(key)
        why = None if value is None else check(value)
        if why is not None:
            found.append(f"{key} {why}")
    return found
