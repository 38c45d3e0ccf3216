"""The shared rate limiter: atomic slots in the database, pauses, the daily budget."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from crm_cli.engine import ratelimit
from crm_cli.engine.ratelimit import PACE_MARGIN, Limits, SharedRateLimiter
from crm_cli.errors import RateLimited
from tests.integration.support import configure_store


def test_slots_are_spaced_a_little_wider_than_the_limit(migrated, monkeypatch):
    # Spacing only: a commit slower than the 25 ms lateness tolerance (a loaded CI
    # host) would make a slot "late" and take a fresh one, an extra wait this
    # test is not about.
    monkeypatch.setattr(ratelimit, "LATE_TOLERANCE", 60.0)
    waits: list[float] = []
    limiter = SharedRateLimiter(migrated, "t:1", Limits(per_second=3), sleep=waits.append)

    for _ in range(4):
        limiter.acquire()

    interval = 1 / 3 * (1 + PACE_MARGIN)
    # the first slot is now; each later one a full interval after the previous
    # (nothing really sleeps here, so the reservations run ahead of the clock)
    assert len(waits) == 3
    for n, wait in enumerate(waits, start=1):
        assert n * interval - 0.2 < wait <= n * interval + 0.01


def test_a_slot_too_far_away_is_refused_without_taking_it(migrated):
    limiter = SharedRateLimiter(migrated, "t:2", Limits(per_second=1), sleep=lambda s: None)
    limiter.acquire()
    limiter.acquire()  # reserved ~1.07 s ahead

    with pytest.raises(RateLimited) as caught:
        limiter.acquire(max_wait=0.5)
    assert 1.5 < caught.value.retry_after <= 2.2
    # refusing took nothing: a patient caller still gets the next slot
    assert limiter.acquire(max_wait=5) == pytest.approx(2.14, abs=0.25)


def test_daily_budget_pauses_until_tomorrow(migrated):
    limiter = SharedRateLimiter(migrated, "t:3", Limits(per_second=None, daily=3))
    for _ in range(3):
        limiter.acquire()

    with pytest.raises(RateLimited, match="daily budget of 3 requests spent") as caught:
        limiter.acquire()
    assert 0 < caught.value.retry_after <= 86_400


def test_pause_holds_for_other_limiters_of_the_same_account(migrated):
    one = SharedRateLimiter(migrated, "t:4", Limits(per_second=100))
    other = SharedRateLimiter(migrated, "t:4", Limits(per_second=100))

    one.pause(retry_after=5)

    with pytest.raises(RateLimited) as caught:
        other.acquire(max_wait=1)
    assert 4 < caught.value.retry_after <= 5


HAMMER = """
import sys
from crm_cli.services.service_crm import ServiceCrm
from crm_cli.settings import load_settings
from crm_cli.db.backends import open_database
settings = load_settings()
client = ServiceCrm(open_database(settings.database_url), settings).client(1)
for _ in range(int(sys.argv[1])):
    client.listar("cliente")
"""


def test_four_processes_on_one_account_stay_under_the_limit(cli, migrated, gc_emulator, db_url):
    gc_emulator.rate = 3  # the emulator answers 429 past 3 requests in any second
    configure_store(
        cli,
        1,
        "gestao_click",
        gc_emulator.credentials,
        api_base_url=gc_emulator.url,
        rate_limit_per_second=3,
    )
    env = {**os.environ, "CRM_DATABASE_URL": db_url}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", HAMMER, "5"], env=env, stderr=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    errors = [p.communicate(timeout=120)[1] for p in procs]

    assert [p.returncode for p in procs] == [0, 0, 0, 0], errors
    stats = gc_emulator.stats()
    assert stats["requests"] == 20
    assert stats["rate_limited"] == 0
    assert stats["max_per_second"] <= 3
