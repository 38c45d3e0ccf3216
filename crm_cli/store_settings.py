"""A store's settings (``crm_integracoes.configuracoes``): what each known key may hold.

Checked twice, by the same rules: when an operator stores a value (``config
set``: exit 2, nothing stored) and when a run opens the store's client (the
PHP application may have written anything: the store waits for an operator,
the other stores carry on). Secrets never go here: they belong in the
encrypted credentials. ``KNOWN`` holds the keys every store may have; each
provider declares its own (``ProviderInfo.settings``), with the checks below.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crm_cli.masking import secret_looking

Check = Callable[[Any], str | None]  # the problem with a value, or None


def number(minimum: float, maximum: float, exclusive_min: bool = False) -> Check:
    def check(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"must be a number, got {value!r}"
        if not math.isfinite(value):  # NaN passes every comparison below
            return f"must be a finite number, got {value!r}"
        if value < minimum or (exclusive_min and value == minimum) or value > maximum:
            low = f"> {minimum:g}" if exclusive_min else f">= {minimum:g}"
            return f"must be {low} and <= {maximum:g}, got {value!r}"
        return None

    return check


def whole(minimum: int, maximum: int) -> Check:
    def check(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int):
            return f"must be a whole number, got {value!r}"
        if not minimum <= value <= maximum:
            return f"must be between {minimum} and {maximum}, got {value!r}"
        return None

    return check


def text(value: Any) -> str | None:
    return None if isinstance(value, str) and value.strip() else f"must be text, got {value!r}"


def zone(value: Any) -> str | None:
    try:
        ZoneInfo(str(value))
    except (ValueError, KeyError, ZoneInfoNotFoundError):
        return f"must be a time zone name such as America/Sao_Paulo, got {value!r}"
    return None


def url(value: Any) -> str | None:
    if not isinstance(value, str):
        return f"must be an http(s) URL, got {value!r}"
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"must be an http(s) URL such as https://api.example.com, got {value!r}"
    if parts.username or parts.password:
        return "must not carry a user or password (put secrets in the encrypted credentials)"
    secrets = [name for name, _ in parse_qsl(parts.query) if secret_looking(name)]
    if secrets:
        return (
            f"must not carry a secret in its query ({', '.join(secrets)}): put it in the "
            "encrypted credentials"
        )
    return None


def crm_id(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).strip():
        return f"must be an id of the CRM account (a number or text), got {value!r}"
    return None


def id_map(value: Any) -> str | None:
    if not isinstance(value, Mapping) or not value:
        return f'must map the ERP\'s ids to the CRM\'s, such as {{"1": "3"}}, got {value!r}'
    for erp, crm in value.items():
        wrong = crm_id(erp) or crm_id(crm)
        if wrong:
            return f"entry {erp!r}: {wrong}"
    return None


KNOWN: dict[str, Check] = {
    "api_base_url": url,
    "rate_limit_per_second": number(0, 1000),  # 0: no pacing (tests, emulators)
    "daily_limit": whole(0, 100_000_000),  # 0: no daily budget
    "timeout_seconds": number(0, 300, exclusive_min=True),
    "webhook_url": url,  # the PHP application's own
    "reauthorization_needed": text,  # written by crm-cli (Bling refused the refresh token)
    "vendedores": id_map,  # a sale's seller: ERP vendedor_id -> the CRM's user id
    "company_time_zone": zone,  # the CRM account's zone: its midnight, its wall times
}


def problem(key: str, value: Any, provider: Mapping[str, Check] | None = None) -> str | None:
    """What is wrong with storing ``value`` under ``key`` (None: nothing); ``provider``:
    the store's provider's own keys (``ProviderInfo.settings``)."""
    check = {**KNOWN, **(provider or {})}.get(key)
    if check is not None:
        return check(value)
    if secret_looking(key):
        return "looks like a secret: secrets go in the encrypted credentials"
    if isinstance(value, str) and "://" in value and urlsplit(value).password:
        return "is a URL with a password: put secrets in the encrypted credentials"
    return None


def stored_problems(
    settings: Mapping[str, Any], provider: Mapping[str, Check] | None = None
) -> list[str]:
    """What makes stored settings unusable, as ``key problem`` (only the keys crm-cli
    reads: every store's, and its provider's)."""
    found = []
    for key, check in {**KNOWN, **(provider or {})}.items():
        value = settings.get(key)
        why = None if value is None else check(value)
        if why is not None:
            found.append(f"{key} {why}")
    return found
