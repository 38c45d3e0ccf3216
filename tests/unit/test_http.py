"""``crm_cli.http``: network failures and answers turned into the project's error kinds."""

from __future__ import annotations

import datetime as dt
import email.utils
from zoneinfo import ZoneInfo

import pytest
import requests

from crm_cli import errors
from crm_cli.http import (
    RETRY_AFTER_MAX,
    blocked_at_the_edge,
    capped,
    network_cause,
    raise_for_status,
    retry_after,
    until_midnight,
    until_next_utc_day,
    where,
)


@pytest.mark.parametrize(
    ("text", "cause"),
    [
        (
            "HTTPConnectionPool(host='api.x', port=443): Max retries exceeded (Caused by "
            "NameResolutionError(\"Failed to resolve 'api.x' "
            '([Errno -2] Name or service not known)"))',
            "host not found",
        ),
        ("[Errno -3] Temporary failure in name resolution", "host not found"),
        (
            "Failed to establish a new connection: [Errno 111] Connection refused",
            "connection refused",
        ),
        ("Connection to api.x timed out. (connect timeout=5)", "timeout"),
        ("Connection aborted.", "connection failed"),
    ],
)
def test_network_failures_are_named_for_the_operator(text, cause):
    assert network_cause(text) == cause


def answer(status: int, headers: dict | None = None, method: str = "POST") -> requests.Response:
    """A response as requests builds one, without a network."""
    response = requests.Response()
    response.status_code = status
    response.headers.update(headers or {})
    response.request = requests.Request(
        method, "https://api.example.com/clientes/7?token=hidden"
    ).prepare()
    return response


def test_messages_name_method_and_path_only():
    assert where("GET", "https://api.example.com/v1/persons?api_token=x") == "GET /v1/persons"


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("30", 30.0),
        ("0.5", 0.5),
        ("-3", 0.0),
        ("soon", None),
        (None, None),
        # a Retry-After means minutes: a gateway's epoch or "inf" is the cap
        ("99999999999", RETRY_AFTER_MAX),
        ("inf", RETRY_AFTER_MAX),
        ("1e999", RETRY_AFTER_MAX),
        ("nan", RETRY_AFTER_MAX),
        ("Fri, 31 Dec 9999 23:59:59 GMT", RETRY_AFTER_MAX),
    ],
)
def test_retry_after_in_seconds(value, seconds):
    headers = {"Retry-After": value} if value is not None else {}
    assert retry_after(answer(429, headers)) == seconds


def test_retry_after_as_an_http_date():
    soon = email.utils.format_datetime(
        dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=120), usegmt=True
    )
    assert 100 < retry_after(answer(429, {"Retry-After": soon})) <= 120
    past = "Wed, 21 Oct 2015 07:28:00 GMT"
    assert retry_after(answer(429, {"Retry-After": past})) == 0.0


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (302, errors.UnexpectedRedirect),
        (401, errors.AuthError),
        (403, errors.AuthError),
        (404, errors.RecordNotFound),
        (410, errors.RecordNotFound),
        (409, errors.RetryableProviderError),
        (422, errors.ValidationFailed),
        (429, errors.RateLimited),
        (503, errors.RetryableProviderError),
    ],
)
def test_each_status_is_one_error_kind(status, kind):
    with pytest.raises(kind) as caught:
        raise_for_status(answer(status, {"Location": "https://login.example.com/x"}))
    assert caught.value.message.startswith(f"POST /clientes/7: HTTP {status}")
    assert "hidden" not in caught.value.message


def test_a_server_error_names_its_status_and_2xx_is_fine():
    with pytest.raises(errors.RetryableProviderError) as caught:
        raise_for_status(answer(502), "Bad Gateway")
    assert caught.value.cause == "server error (502)"
    assert caught.value.message.endswith("HTTP 502 — Bad Gateway")
    raise_for_status(answer(201))  # nothing raised


def test_a_redirect_names_where_it_leads_and_what_to_check():
    with pytest.raises(errors.UnexpectedRedirect, match=r"redirected to login\.example\.com"):
        raise_for_status(answer(301, {"Location": "https://login.example.com/sso"}))


def test_a_firewall_page_is_told_from_the_apis_403():
    assert blocked_at_the_edge(answer(403, {"Content-Type": "text/html; charset=UTF-8"}))
    assert not blocked_at_the_edge(answer(403, {"Content-Type": "application/json"}))
    assert not blocked_at_the_edge(answer(200, {"Content-Type": "text/html"}))


def test_seconds_until_a_companys_midnight():
    for zone in ("America/Sao_Paulo", "Asia/Tokyo", "UTC"):
        assert 1.0 <= until_midnight(ZoneInfo(zone)) <= 86_400 + 3_600
    assert 0 < until_next_utc_day() <= 86_400


@pytest.mark.parametrize(
    ("seconds", "most", "expected"),
    [
        (5.0, 60.0, 5.0),
        (600.0, 60.0, 60.0),
        (-1.0, 60.0, 0.0),
        (float("inf"), 60.0, 60.0),
        (float("-inf"), 60.0, 0.0),
        (float("nan"), 60.0, 60.0),
    ],
)
def test_a_pause_is_capped_at_what_it_can_mean(seconds, most, expected):
    assert capped(seconds, most) == expected
