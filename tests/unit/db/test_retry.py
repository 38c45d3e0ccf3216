"""A transaction the server gave up on (deadlock, lock wait timeout), done again."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from crm_cli.db.retry import ATTEMPTS, again_on_deadlock, gave_up


class ServerError(Exception):
    """What the driver raises: its first argument is the server's error code."""


def server_said(code: int) -> sa.exc.OperationalError:
    return sa.exc.OperationalError("UPDATE …", {}, ServerError(code, "…"))


def test_a_deadlock_is_done_again_until_it_goes_through():
    tries, pauses = [], []

    def transaction() -> str:
        tries.append(1)
        if len(tries) < 3:
            raise server_said(1213)
        return "claimed"

    assert again_on_deadlock(transaction, sleep=pauses.append) == "claimed"
    assert len(tries) == 3 and len(pauses) == 2 and pauses[0] < pauses[1]


def test_it_gives_up_after_its_attempts_and_raises_other_errors_at_once():
    tries = []

    def deadlocked() -> None:
        tries.append(1)
        raise server_said(1205)

    with pytest.raises(sa.exc.OperationalError):
        again_on_deadlock(deadlocked, sleep=lambda s: None)
    assert len(tries) == ATTEMPTS
    assert not gave_up(server_said(2006))  # "server has gone away": not a retry
    with pytest.raises(sa.exc.OperationalError):
        again_on_deadlock(lambda: (_ for _ in ()).throw(server_said(2006)), sleep=lambda s: None)
