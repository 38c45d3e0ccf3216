"""``crm_cli.engine.retry``: attempts and the backoff between them."""

from __future__ import annotations

import random

from crm_cli.engine.retry import JITTER, RetryPolicy
from crm_cli.settings import SyncSettings

POLICY = RetryPolicy(max_attempts=3, backoff_seconds=(60, 300, 1800))


def test_the_policy_is_the_settings():
    assert RetryPolicy.from_settings(SyncSettings()) == RetryPolicy(3, (60, 300, 1800, 7200))


def test_attempts_run_out_at_the_maximum():
    assert not POLICY.exhausted(2)
    assert POLICY.exhausted(3)
    assert POLICY.exhausted(4)


def test_each_retry_waits_its_own_step_with_jitter_and_the_last_repeats():
    rng = random.Random(7)
    for attempts, base in ((1, 60), (2, 300), (3, 1800), (9, 1800), (0, 60)):
        for _ in range(50):
            delay = POLICY.delay(attempts, rng)
            assert base * (1 - JITTER) - 1 <= delay <= base * (1 + JITTER) + 1


def test_items_that_failed_together_do_not_come_back_together():
    rng = random.Random(1)
    assert len({POLICY.delay(1, rng) for _ in range(20)}) > 5


def test_a_delay_is_never_below_one_second():
    tiny = RetryPolicy(3, (1,))
    assert min(tiny.delay(1, random.Random(seed)) for seed in range(100)) == 1


def test_backoff_follows_the_schedule_with_jitter():
    policy = RetryPolicy(max_attempts=5, backoff_seconds=(60, 300, 1800))
    rng = random.Random(7)

    delays = [policy.delay(n, rng) for n in (1, 2, 3, 4)]

    for delay, base in zip(delays, (60, 300, 1800, 1800), strict=True):
        assert base * 0.8 <= delay <= base * 1.2
    assert policy.exhausted(5) and not policy.exhausted(4)
    assert len({policy.delay(1, rng) for _ in range(20)}) > 1  # jittered, not fixed
