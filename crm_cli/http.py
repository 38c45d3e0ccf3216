"""HTTP in one place: the session factory, and the translation of network errors
and status codes into the project's error kinds (crm_cli.errors).

Nothing here retries: the sync engine owns retries (with backoff, and never a
blind repeat of a POST). Messages name method and path only: query strings and
headers can carry credentials.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from email.utils import parsedate_to_datetime
from time import time
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import requests

from crm_cli import __version__
from crm_cli.errors import (
    AuthError,
    ProviderTimeout,
    ProviderUnreachable,
    RateLimited,
    RecordNotFound,
    RetryableProviderError,
    UnexpectedAnswer,
    UnexpectedRedirect,
    ValidationFailed,
)

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 30.0
# What a pause the CRM asks for can mean, at most. A Retry-After is minutes (a
# longer one, or "inf", is a broken proxy or gateway, not the API); a burst
# window's reset is seconds (Pipedrive's is 2); nothing lasts past a day, when
# every daily budget has reset. Beyond these, the cap.
RETRY_AFTER_MAX = 3600.0
BURST_RESET_MAX = 60.0
PAUSE_MAX = 86_400.0


def new_session(base_url: str) -> requests.Session:
    """A session for one provider account: keep-alive, our User-Agent, no automatic retries.

    The environment's proxy (honouring no_proxy for the provider's host) and CA
    bundle are read once, here: left to requests, they are read again from
    os.environ, and ~/.netrc looked up, on every request — a fifth of its CPU
    per request, and credentials from ~/.netrc were never wanted anyway.
    """
    session = requests.Session()
    session.headers["User-Agent"] = f"crm-cli/{__version__}"
    session.headers["Accept"] = "application/json"
    session.proxies.update(requests.utils.get_environ_proxies(base_url))
    ca_bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if ca_bundle:
        session.verify = ca_bundle
    session.trust_env = False
    return session


def where(method: str, url: str) -> str:
    return f"{method} {urlsplit(url).path}"


def send(
    session: requests.Session,
    method: str,
    url: str,
    *,
    timeout: tuple[float, float] = (CONNECT_TIMEOUT, READ_TIMEOUT),
    **kwargs: Any,
) -> requests.Response:
    """One request; network failures become ProviderTimeout / ProviderUnreachable."""
    try:
        return session.request(method, url, timeout=timeout, allow_redirects=False, **kwargs)
    except requests.exceptions.SSLError:
        raise ProviderUnreachable(f"{where(method, url)}: TLS error", "TLS error") from None
    except requests.exceptions.Timeout:
        raise ProviderTimeout(f"{where(method, url)}: timeout") from None
    except requests.exceptions.ConnectionError as exc:
        cause = network_cause(str(exc))
        raise ProviderUnreachable(f"{where(method, url)}: {cause}", cause) from None
    except requests.exceptions.RequestException as exc:
        raise UnexpectedAnswer(f"{where(method, url)}: {type(exc).__name__}") from None


def network_cause(text: str) -> str:
    """What a connection failure's text says happened, in the operator's words."""
    lowered = text.lower()
    if any(
        s in lowered
        for s in (
            "nameresolution",
            "name or service not known",
            "getaddrinfo",
            "nodename nor servname",
            "temporary failure in name",
        )
    ):
        return "host not found"
    if "refused" in lowered:
        return "connection refused"
    if "timed out" in lowered:
        return "timeout"
    return "connection failed"


def retry_after(response: requests.Response) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP date), if any, at most
    RETRY_AFTER_MAX (a value past it, or not finite, is taken as it)."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return capped(float(value), RETRY_AFTER_MAX)
    except ValueError:
        pass
    try:
        return capped(parsedate_to_datetime(value).timestamp() - time(), RETRY_AFTER_MAX)
    except (TypeError, ValueError, OverflowError):
        return None


def capped(seconds: float, most: float) -> float:
    """``seconds`` within 0 and ``most``; an infinite or overflowing count is ``most``
    (``float("nan")`` too: a header that says nothing usable asks for the cap)."""
    if not math.isfinite(seconds):
        return most if seconds != float("-inf") else 0.0
    return min(max(0.0, seconds), most)


def blocked_at_the_edge(response: requests.Response) -> bool:
    """A 403 that is an HTML page: a firewall in front of the API (Cloudflare) blocking
    traffic, not the API rejecting credentials (an API answers its 403s in JSON)."""
    content_type = response.headers.get("Content-Type", "")
    return response.status_code == 403 and "html" in content_type.lower()


def raise_for_status(response: requests.Response, detail: str = "") -> None:
    """Map a non-2xx answer to an error kind. ``detail`` is the provider's own reason."""
    status = response.status_code
    if status < 300:
        return
    req = response.request
    what = f"{where(req.method or '?', req.url or '')}: HTTP {status}"
    if detail:
        what += f" — {detail}"
    if 300 <= status < 400:
        target = response.headers.get("Location", "")
        raise UnexpectedRedirect(
            f"{what}: redirected{' to ' + urlsplit(target).netloc if target else ''}; "
            "check the store's api_base_url (http instead of https, or a login page?)"
        )
    if status in (401, 403):
        raise AuthError(what)
    if status in (404, 410):  # 410 Gone: deleted for good, said so
        raise RecordNotFound(what)
    if status == 429:
        raise RateLimited(what, retry_after(response))
    if status >= 500 or status in (408, 409, 423, 425):
        error = RetryableProviderError(what)
        error.cause = f"server error ({status})"
        raise error
    raise ValidationFailed(what)


def until_midnight(zone: ZoneInfo) -> float:
    """Seconds until the next 00:00 in ``zone`` (a company's day, for daily budgets)."""
    now = dt.datetime.now(zone)
    midnight = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(), zone)
    return max(1.0, (midnight - now).total_seconds())


def until_next_utc_day() -> float:
    """Seconds until 00:00 UTC, when daily request budgets reset."""
    now = time()
    return 86_400 - now % 86_400
