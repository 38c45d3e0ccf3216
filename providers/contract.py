"""What the engine hands a provider client, and all a client may use of it.

A client never sees the rate limiter, the run's time budget or the database:
it asks its ``Pacer`` before each request and tells it when the CRM says to
wait; a client that rotates its tokens saves them through its ``TokenStore``.
The engine's side of both is ``crm_cli.engine.clients``. (Until 0.2 this module
was ``crm_cli.engine.contract``; that path still works, with a warning, until 0.4.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol


class Pacer(Protocol):
    def acquire(self) -> float | None:
        """Wait for the account's next request slot; raise RateLimited when it is too far.
        Returns the seconds the request may take (None: no bound)."""

    def report(self, answered: bool) -> None:
        """Whether the request got an answer (any status) or none (refused, timed out):
        the account's circuit breaker counts what goes unanswered."""

    def pause(self, retry_after: float | None) -> float:
        """The CRM asked the account to wait (429, spent budget); every process waits.
        Returns the pause in seconds (``retry_after`` None: a growing default)."""

    def blocked(self) -> float:
        """The CRM's edge firewall blocked the account's traffic (its block page, not
        the API's answer): every process rests for the policy's time, returned."""


class TokenStore(Protocol):
    id_loja: int

    def update(self, change: Callable[[dict[str, Any]], dict[str, Any] | None]) -> dict[str, Any]:
        """Apply ``change`` to the stored credentials under the store's row lock (None:
        keep them) and return what is stored afterwards."""

    def mark_reauthorization(self, reason: str) -> None:
        """The CRM refused the stored tokens: an operator must authorise the store again."""
