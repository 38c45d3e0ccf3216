"""A transaction MySQL/MariaDB gave up on, done again.

InnoDB breaks a deadlock (error 1213) by rolling one transaction back, and ends
a lock wait after ``innodb_lock_wait_timeout`` (1205); both say "try again".
Overlapping cron runs meet there (the PHP application queues the same record
twice, and two runs coalesce the duplicates at once): the transaction is done
again, a few times, after a short random pause, before the error is anyone's.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

import sqlalchemy as sa

RETRIED_CODES = (1213, 1205)  # deadlock found; lock wait timeout exceeded
ATTEMPTS = 5
PAUSE_SECONDS = 0.05  # the first pause; each next one doubles, with jitter

T = TypeVar("T")


def gave_up(exc: BaseException) -> bool:
    """Whether ``exc`` is the server breaking a deadlock or ending a lock wait."""
    orig = getattr(exc, "orig", None)
    code = orig.args[0] if orig is not None and getattr(orig, "args", None) else None
    return isinstance(exc, sa.exc.OperationalError) and code in RETRIED_CODES


def again_on_deadlock(
    transaction: Callable[[], T],
    attempts: int = ATTEMPTS,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """``transaction()`` (which opens and ends its own transaction), done again while
    the server gives up on it, ``attempts`` times at most."""
    for attempt in range(1, attempts + 1):
        try:
            return transaction()
        except sa.exc.OperationalError as exc:
            if not gave_up(exc) or attempt == attempts:
                raise
            sleep(PAUSE_SECONDS * 2 ** (attempt - 1) * (1 + random.random()))
    raise AssertionError("not reached")  # the loop returns or raises
