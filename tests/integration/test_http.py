"""Pure parts of the HTTP layer."""

from __future__ import annotations

import pytest

from crm_cli.http import network_cause


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
