"""The circuit breaker of each CRM endpoint: the CRM down is told from the CRM busy.

An endpoint is an account at one base URL: two stores with the same credentials
and different ``api_base_url`` (one of them wrong) are two endpoints, so the
dead one never opens the circuit of the one that answers. After
``breaker_failures`` requests in a row without an answer (connection refused,
timeout), every process leaves the endpoint alone for ``breaker_first_seconds``,
doubling while the first request after each pause fails too, up to
``breaker_max_seconds``; any answer closes it. The count is kept in the
endpoint's own row of ``crm_rate_limits`` (beside its account's row, which
holds the rate-limit slots and the pauses the CRM asks for), on the database
server's clock, so every process and host agrees.
"""

from __future__ import annotations

import hashlib
import time

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from crm_cli.db.ddl import DbNowMs
from crm_cli.db.schema import crm_rate_limits
from crm_cli.engine.ratelimit import AccountPolicy, ensure_row, locked_row
from crm_cli.errors import CircuitOpen

ENDPOINT_MARK = "@"  # account key @ a hash of the base URL
CHECK_EVERY = 1.0  # seconds a circuit read closed is trusted (see CircuitBreaker.check)


def endpoint_key(account: str, base_url: str) -> str:
    """The endpoint's row: its account's key and a hash of its base URL."""
    digest = hashlib.sha256(base_url.rstrip("/").encode("utf-8")).hexdigest()[:12]
    return f"{account}{ENDPOINT_MARK}{digest}"


def account_of(key: str) -> str:
    """The account a row belongs to (an endpoint's, or the account's own)."""
    return key.split(ENDPOINT_MARK, 1)[0]


class CircuitBreaker:
    def __init__(self, database: Engine, key: str, policy: AccountPolicy) -> None:
        self.database, self.key, self.policy = database, key, policy
        self._row_ready = False
        # requests in a row without an answer, as last read or written here
        self.unanswered_in_a_row = 0
        self._closed_at = -CHECK_EVERY  # monotonic time the circuit was last read closed

    def check(self) -> None:
        """CircuitOpen while the endpoint rests (any process may have opened it).

        A circuit found closed is not read again for CHECK_EVERY seconds while this
        process sees no failure: a request then costs no extra query, and another
        process's outage is noticed within that second."""
        now = time.monotonic()
        if not self.unanswered_in_a_row and now - self._closed_at < CHECK_EVERY:
            return
        self._ensure_row()
        with self.database.connect() as conn:
            db_now = conn.execute(sa.select(DbNowMs())).scalar_one()
            failures, until = conn.execute(
                sa.select(crm_rate_limits.c.failures, crm_rate_limits.c.paused_until_ms).where(
                    crm_rate_limits.c.quota_key == self.key
                )
            ).one()
        self.unanswered_in_a_row = failures
        if failures >= self.policy.breaker_failures and until > db_now:
            wait = (until - db_now) / 1000.0
            raise CircuitOpen(
                f"the CRM did not answer {failures} requests in a row (connection refused "
                f"or timeout): it rests for {wait:.0f} s",
                wait,
            )
        if not failures:
            self._closed_at = now

    def unanswered(self) -> float | None:
        """A request got no answer: count it; at the threshold open the circuit (every
        process leaves the endpoint alone). Returns the pause, if one began."""
        self._ensure_row()
        with self.database.begin() as conn:
            now, row = locked_row(conn, self.key)
            failures = row.failures + 1
            values: dict = {"failures": failures}
            opened = None
            if failures >= self.policy.breaker_failures:
                first = self.policy.breaker_first_seconds * 1000
                most = self.policy.breaker_max_seconds * 1000
                circuit = min(max(row.circuit_ms * 2, first), most)
                values |= {
                    "circuit_ms": circuit,
                    "paused_until_ms": max(row.paused_until_ms, now + circuit),
                }
                opened = circuit / 1000.0
            conn.execute(
                sa.update(crm_rate_limits)
                .where(crm_rate_limits.c.quota_key == self.key)
                .values(**values)
            )
        self.unanswered_in_a_row = failures
        return opened

    def answered(self) -> None:
        """A request got an answer (of any status): the circuit closes."""
        if not self.unanswered_in_a_row:
            return
        with self.database.begin() as conn:
            conn.execute(
                sa.update(crm_rate_limits)
                .where(crm_rate_limits.c.quota_key == self.key, crm_rate_limits.c.failures > 0)
                .values(failures=0, circuit_ms=0, paused_until_ms=0)
            )
        self.unanswered_in_a_row = 0

    def _ensure_row(self) -> None:
        if not self._row_ready:
            ensure_row(self.database, self.key)
            self._row_ready = True
