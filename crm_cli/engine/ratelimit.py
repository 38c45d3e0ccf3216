"""A rate limiter shared by every process and host that uses the same database.

Each provider account (quota owner) has one row in ``crm_rate_limits``. A
request reserves the next free slot with a single conditional UPDATE — the row
lock makes reservations atomic, so no read-then-write race exists — then sleeps
until its slot. Slots are spaced a little wider than the provider's limit (the
server's window is not aligned with ours and arrival times jitter): the goal is
zero 429s, not the last request per second. All times are the database
server's clock, so hosts with skewed clocks still agree.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from crm_cli import http
from crm_cli.db.ddl import DbDayNumber, DbNowMs, Greatest
from crm_cli.db.schema import crm_rate_limits
from crm_cli.errors import RateLimited
from crm_cli.settings import SyncSettings

DAY_MS = 86_400_000
PACE_MARGIN = 0.07  # slots 7 % wider than the limit
LATE_TOLERANCE = 0.025  # seconds past its slot a request may still be sent
MAX_LATE_RETRIES = 3
WAIT_WORTH_USING = 0.05  # seconds: a shorter wait is slept through, not given to before_wait


@dataclass(frozen=True)
class PausedAccount:
    account: str  # the quota key: provider and a hash of the account's credential
    seconds_left: int
    unanswered: int  # requests in a row without an answer (an open circuit's count)


def paused_accounts(database: Engine) -> list[PausedAccount]:
    """The accounts paused now (a 429, a spent budget, an open circuit), by quota key."""
    with database.connect() as conn:
        now = conn.execute(sa.select(DbNowMs())).scalar_one()
        rows = conn.execute(
            sa.select(
                crm_rate_limits.c.quota_key,
                crm_rate_limits.c.paused_until_ms,
                crm_rate_limits.c.failures,
            )
            .where(crm_rate_limits.c.paused_until_ms > now)
            .order_by(crm_rate_limits.c.quota_key)
        ).all()
    return [
        PausedAccount(key, round((until - now) / 1000), failures) for key, until, failures in rows
    ]


def clear_pause(database: Engine, key: str) -> int:
    """Lift the account's pause and backoff, and its endpoints' open circuits (an
    operator's ``config resume``); return the seconds the longest had left (0: none)."""
    with database.begin() as conn:
        now = conn.execute(sa.select(DbNowMs())).scalar_one()
        mine = sa.or_(
            crm_rate_limits.c.quota_key == key,
            crm_rate_limits.c.quota_key.startswith(key + "@", autoescape=True),
        )
        until = conn.execute(
            sa.select(sa.func.max(crm_rate_limits.c.paused_until_ms)).where(mine)
        ).scalar()
        conn.execute(
            sa.update(crm_rate_limits)
            .where(mine)
            .values(paused_until_ms=0, backoff_ms=0, failures=0, circuit_ms=0)
        )
    return max(0, round(((until or 0) - now) / 1000))


def quota_key(provider: str, account_credential: str) -> str:
    """The quota owner: provider plus a hash of the account's credential (never the secret)."""
    digest = hashlib.sha256(account_credential.encode("utf-8")).hexdigest()[:24]
    return f"{provider}:{digest}"


@dataclass(frozen=True)
class AccountPolicy:
    """How long an account's pauses last (the run's policy, ``SyncSettings``).

    The circuit breaker: after ``breaker_failures`` consecutive requests without an
    answer (connection refused, timeout), every process leaves the account alone
    for ``breaker_first_seconds``, doubling while the first request after each
    pause fails too, up to ``breaker_max_seconds``. A 429 that says no Retry-After
    (GestãoClick sends none) pauses ``pause_first_seconds``, doubling while 429s
    keep coming, up to ``pause_max_seconds``. An edge firewall's block page rests
    the account ``edge_block_seconds``.
    """

    breaker_failures: int
    breaker_first_seconds: int
    breaker_max_seconds: int
    pause_first_seconds: int
    pause_max_seconds: int
    edge_block_seconds: int

    @classmethod
    def of(cls, sync: SyncSettings | None = None) -> AccountPolicy:
        """The policy of ``sync`` (None: the defaults)."""
        sync = sync or SyncSettings()
        return cls(
            breaker_failures=sync.breaker_failures,
            breaker_first_seconds=sync.breaker_seconds,
            breaker_max_seconds=sync.breaker_max_seconds,
            pause_first_seconds=sync.pause_first_seconds,
            pause_max_seconds=sync.pause_max_seconds,
            edge_block_seconds=sync.edge_block_seconds,
        )


@dataclass(frozen=True)
class Limits:
    per_second: float | None  # None or 0: no pacing (tests, benchmarks)
    daily: int | None = None

    @property
    def interval_ms(self) -> int:
        if not self.per_second:
            return 0
        return math.ceil(1000.0 / self.per_second * (1 + PACE_MARGIN))


class SharedRateLimiter:
    def __init__(
        self,
        database: Engine,
        key: str,
        limits: Limits,
        sleep: Callable[[float], None] = time.sleep,
        policy: AccountPolicy | None = None,
    ) -> None:
        self.database, self.key, self.limits, self.sleep = database, key, limits, sleep
        self.policy = policy or AccountPolicy.of()
        self._row_ready = False
        # Without limits (tests, benchmarks) the row is consulted only once this
        # process has seen a 429: a pause must hold even then.
        self._consult = bool(limits.per_second or limits.daily)
        # Called before a wait for a slot, outside any transaction: the caller's
        # chance to do its own database work in time it would spend asleep.
        self.before_wait: Callable[[], None] | None = None

    def acquire(self, max_wait: float | None = None) -> float:
        """Take a slot and sleep until it; return the seconds waited.

        Raises RateLimited (taking nothing) when the slot is further away than
        ``max_wait`` seconds, or when the day's budget is spent.
        """
        if not self._consult:
            return 0.0
        self._ensure_row()
        waited = 0.0
        for _ in range(MAX_LATE_RETRIES):
            wait, due = self._reserve(max_wait)
            if wait >= WAIT_WORTH_USING and self.before_wait is not None:
                used = time.monotonic()
                self.before_wait()
                wait = max(0.0, wait - (time.monotonic() - used))
            if wait:
                self.sleep(wait)
                waited += wait
            # A process descheduled past its slot (a busy host, a slow commit)
            # would now send close to the next slot's owner: leave the slot
            # unused and take a fresh one instead.
            if time.monotonic() - due <= LATE_TOLERANCE:
                return waited
        return waited

    def _reserve(self, max_wait: float | None) -> tuple[float, float]:
        """Reserve the next slot: (seconds to wait, monotonic time it is due)."""
        max_wait_ms = DAY_MS if max_wait is None else int(max_wait * 1000)
        interval = self.limits.interval_ms
        daily = self.limits.daily or 2**31 - 1
        now, today = DbNowMs(), DbDayNumber()
        with self.database.begin() as conn:
            # "now" is read inside the UPDATE, once the row lock is held: time
            # spent waiting for the lock cannot make the slot stale.
            result = conn.execute(
                sa.update(crm_rate_limits)
                .where(
                    crm_rate_limits.c.quota_key == self.key,
                    Greatest(crm_rate_limits.c.next_slot_ms, crm_rate_limits.c.paused_until_ms)
                    <= now + max_wait_ms,
                    sa.or_(
                        crm_rate_limits.c.day_number != today, crm_rate_limits.c.day_count < daily
                    ),
                )
                .values(
                    next_slot_ms=Greatest(
                        crm_rate_limits.c.next_slot_ms, crm_rate_limits.c.paused_until_ms, now
                    )
                    + interval,
                    day_count=sa.case(
                        (crm_rate_limits.c.day_number == today, crm_rate_limits.c.day_count + 1),
                        else_=1,
                    ),
                    day_number=today,
                )
            )
            if result.rowcount != 1:
                raise self._refusal(conn)
            # our own row, still locked by this transaction: the slot we reserved
            next_slot, db_now = conn.execute(
                sa.select(crm_rate_limits.c.next_slot_ms, now).where(
                    crm_rate_limits.c.quota_key == self.key
                )
            ).one()
            read_at = time.monotonic()
        due = read_at + (next_slot - interval - db_now) / 1000.0
        return max(0.0, due - time.monotonic()), due

    def _refusal(self, conn: Connection) -> RateLimited:
        row = conn.execute(
            sa.select(crm_rate_limits).where(crm_rate_limits.c.quota_key == self.key)
        ).one()
        now = conn.execute(sa.select(DbNowMs())).scalar_one()
        today = now // DAY_MS
        if self.limits.daily and row.day_number == today and row.day_count >= self.limits.daily:
            wait = ((today + 1) * DAY_MS - now) / 1000.0
            return RateLimited(
                f"daily budget of {self.limits.daily} requests spent; resets in {wait:.0f} s",
                wait,
            )
        wait = (max(row.next_slot_ms, row.paused_until_ms) - now) / 1000.0
        return RateLimited(f"next request slot in {wait:.1f} s", max(wait, 0.0))

    def pause(self, retry_after: float | None) -> float:
        """Stop every process using this account after a 429; return the pause in seconds.

        With Retry-After, pause that long (a day at most: a longer or infinite one
        is the cap); without (GestãoClick sends none), the policy's first pause,
        doubling while 429s keep coming, up to its maximum.
        """
        self._ensure_row()
        self._consult = True
        if retry_after is not None:  # no pause lasts past a day (http.PAUSE_MAX)
            retry_after = http.capped(retry_after, http.PAUSE_MAX)
        with self.database.begin() as conn:
            now, row = locked_row(conn, self.key)
            if retry_after is not None:
                pause_ms, backoff = int(retry_after * 1000), row.backoff_ms
            else:
                first = self.policy.pause_first_seconds * 1000
                most = self.policy.pause_max_seconds * 1000
                recent = now - row.paused_until_ms < 2 * max(row.backoff_ms, first)
                backoff = min(row.backoff_ms * 2, most) if recent and row.backoff_ms else first
                pause_ms = backoff
            until = max(row.paused_until_ms, now + pause_ms)
            conn.execute(
                sa.update(crm_rate_limits)
                .where(crm_rate_limits.c.quota_key == self.key)
                .values(paused_until_ms=until, backoff_ms=backoff)
            )
        return (until - now) / 1000.0

    def _ensure_row(self) -> None:
        if not self._row_ready:
            ensure_row(self.database, self.key)
            self._row_ready = True


def locked_row(conn: Connection, key: str) -> tuple[int, sa.Row]:
    """The server's time and the row of ``key``, locked for this transaction.

    A no-op write first: it takes the row lock on every backend, so the read and
    the write after it are one atomic step.
    """
    conn.execute(
        sa.update(crm_rate_limits)
        .where(crm_rate_limits.c.quota_key == key)
        .values(backoff_ms=crm_rate_limits.c.backoff_ms)
    )
    now = conn.execute(sa.select(DbNowMs())).scalar_one()
    return now, conn.execute(
        sa.select(crm_rate_limits).where(crm_rate_limits.c.quota_key == key)
    ).one()


def ensure_row(database: Engine, key: str) -> None:
    """The row of ``key`` (an account's, or an endpoint's), made if missing."""
    insert = sa.insert(crm_rate_limits).values(
        quota_key=key,
        next_slot_ms=0,
        paused_until_ms=0,
        backoff_ms=0,
        day_number=0,
        day_count=0,
        failures=0,
        circuit_ms=0,
    )
    for dialect, prefix in (
        ("mysql", "IGNORE"),
        ("mariadb", "IGNORE"),
        ("sqlite", "OR IGNORE"),
    ):
        insert = insert.prefix_with(prefix, dialect=dialect)
    with database.begin() as conn:
        conn.execute(insert)
