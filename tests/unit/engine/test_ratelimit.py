"""``crm_cli.engine.ratelimit``: the pure parts (quota keys, slot spacing, the policy)."""

from __future__ import annotations

from crm_cli.engine.ratelimit import AccountPolicy, Limits, quota_key
from crm_cli.settings import SyncSettings


def test_quota_key_hides_the_credential():
    key = quota_key("gestao_click", "gc-access-0001")
    assert key.startswith("gestao_click:")
    assert "gc-access" not in key
    assert key == quota_key("gestao_click", "gc-access-0001")


def test_slots_are_spaced_seven_percent_wider_than_the_limit():
    assert Limits(per_second=3).interval_ms == 357  # 1000 / 3 * 1.07, rounded up
    assert Limits(per_second=None).interval_ms == 0  # no pacing
    assert Limits(per_second=0).interval_ms == 0


def test_the_accounts_policy_is_the_sync_settings():
    assert AccountPolicy.of() == AccountPolicy(3, 30, 600, 1, 60, 300)
    custom = SyncSettings(breaker_failures=5, breaker_seconds=10, edge_block_seconds=60)
    assert AccountPolicy.of(custom) == AccountPolicy(5, 10, 600, 1, 60, 300 - 240)
