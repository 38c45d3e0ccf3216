"""What became of an item: its ``Outcome``, and the outcome of an error that stopped it
(what the error means is ``crm_cli.engine.failures``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Connection

from crm_cli.engine.failures import Verdict, decide

Apply = Callable[[Connection], "int | None"]  # local writes; may return a new record id


@dataclass
class Outcome:
    status: str  # completed | retry | failed | released (account paused) | parked (store waits)
    message: str
    sent: Any = None
    received: Any = None
    external_id: str | None = None
    id_registro: int | None = None
    retry_after: float | None = None  # released by a rate limit: the provider's wait
    release_delay: int = 5  # released or parked otherwise: seconds before it is due again
    apply: Apply | None = field(default=None, repr=False)
    # A create that no later attempt could find again (no natural key): lost
    # with a crash, it would leave its item to an operator.
    commit_at_once: bool = False
    unanswered: bool = False  # the CRM did not answer: its store's next items wait

    @property
    def log_status(self) -> str:
        return (
            "sucesso"
            if self.status == "completed"
            else ("alerta" if self.status in ("released", "parked") else "erro")
        )


def no_local_write(conn: Connection) -> None:
    return None


def outcome_of(exc: BaseException) -> Outcome:
    """The outcome of an item stopped by ``exc``; a fatal error is raised again."""
    decision = decide(exc)
    if decision.verdict is Verdict.FATAL:
        raise exc
    if decision.verdict is Verdict.PARK_ACCOUNT:
        return Outcome("released", decision.message, retry_after=decision.wait)
    if decision.verdict is Verdict.PARK_STORE:
        return Outcome("parked", decision.message, release_delay=round(decision.wait or 0))
    if decision.verdict is Verdict.FAIL:
        return Outcome("failed", decision.message)
    return Outcome("retry", decision.message, unanswered=decision.unanswered)
