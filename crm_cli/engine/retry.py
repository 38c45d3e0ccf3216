"""The retry policy: how many attempts, and how long to wait before each retry."""

from __future__ import annotations

import random
from dataclasses import dataclass

from crm_cli.settings import SyncSettings

JITTER = 0.2  # ±20 %: items that failed together do not all come back together


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    backoff_seconds: tuple[int, ...]

    @classmethod
    def from_settings(cls, sync: SyncSettings) -> RetryPolicy:
        return cls(sync.max_attempts, sync.backoff_seconds)

    def exhausted(self, attempts: int) -> bool:
        return attempts >= self.max_attempts

    def delay(self, attempts: int, rng: random.Random) -> int:
        """Seconds before the next try after ``attempts`` failed ones (the last value repeats)."""
        base = self.backoff_seconds[min(max(attempts, 1), len(self.backoff_seconds)) - 1]
        return max(1, round(base * rng.uniform(1 - JITTER, 1 + JITTER)))
