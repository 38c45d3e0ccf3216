"""What became of an item: its ``Outcome``, and the outcome of an error that stopped it
(what the error means is ``crm_cli.engine.failures``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Connection

from crm_cli.engine.failures import Verdict, decide
from crm_cli.states import LogStatus, OutcomeKind

Apply = Callable[[Connection], "int | None"]  # local writes; may return a new record id


@dataclass(frozen=True)
class Outcome:
    """A value: a changed outcome is a new one (``dataclasses.replace``)."""

    kind: OutcomeKind
    message: str
    sent: Any = None
    received: Any = None
    external_id: str | None = None
    id_registro: int | None = None
    # RELEASED because its account is paused: the seconds the CRM asked for
    # (None: the pause was not said, the run's policy decides how long)
    retry_after: float | None = None
    parked_entity: str | None = None  # PARKED: only this entity of the store waits
    apply: Apply | None = field(default=None, repr=False, compare=False)
    # A create that no later attempt could find again (no natural key): lost
    # with a crash, it would leave its item to an operator.
    commit_at_once: bool = False
    unanswered: bool = False  # the CRM did not answer: its store's next items wait
    # completed, but worth an operator's look (a record changed on both sides)
    warning: bool = False
    # a CRM record applied to the ERP that held its values already: nothing written
    # there (only the link and the sync state)
    same_locally: bool = False

    @property
    def log_status(self) -> LogStatus:
        if self.warning and self.kind is OutcomeKind.COMPLETED:
            return LogStatus.ALERTA
        return self.kind.log_status


def no_local_write(conn: Connection) -> None:
    return None


def outcome_of(exc: BaseException) -> Outcome:
    """The outcome of an item stopped by ``exc``; a fatal error is raised again."""
    decision = decide(exc)
    if decision.verdict is Verdict.FATAL:
        raise exc
    if decision.verdict is Verdict.PARK_ACCOUNT:
        return Outcome(OutcomeKind.RELEASED, decision.message, retry_after=decision.retry_after)
    if decision.verdict is Verdict.PARK_STORE:
        return Outcome(OutcomeKind.PARKED, decision.message, parked_entity=decision.entidade)
    if decision.verdict is Verdict.FAIL:
        return Outcome(OutcomeKind.FAILED, decision.message)
    return Outcome(OutcomeKind.RETRY, decision.message, unanswered=decision.unanswered)
