"""What became of an item (``Outcome``), and what an error means for it.

Every path that processes an item — cron runs, "sync now", ``import`` — turns
the error that stopped it into an outcome here, and only here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Connection

from crm_cli.errors import (
    AuthError,
    ConfigError,
    CredentialsError,
    CrmError,
    EntityNotSupported,
    NotFoundError,
    ProviderUnreachable,
    RateLimited,
    ReauthorizationNeeded,
    RecordNotFound,
    ValidationFailed,
)


class CannotSucceed(CrmError):
    """An item that no retry can fix (record missing, unknown create outcome, …)."""


# Errors that retrying the same item cannot fix: the item fails at once.
PERMANENT = (
    CannotSucceed,
    ValidationFailed,
    RecordNotFound,
    EntityNotSupported,
    NotFoundError,
    ConfigError,
)

REAUTHORIZATION_WAIT = 600  # seconds before items of a store awaiting re-authorisation come back
Apply = Callable[[Connection], "int | None"]  # local writes; may return a new record id


@dataclass
class Outcome:
    status: str  # completed | retry | failed | released
    message: str
    sent: Any = None
    received: Any = None
    external_id: str | None = None
    id_registro: int | None = None
    retry_after: float | None = None  # released by a rate limit: the provider's wait
    release_delay: int = 5  # released for another reason: seconds before it is due again
    apply: Apply | None = field(default=None, repr=False)
    # A create that no later attempt could find again (no natural key): lost
    # with a crash, it would leave its item to an operator.
    commit_at_once: bool = False

    @property
    def log_status(self) -> str:
        return (
            "sucesso"
            if self.status == "completed"
            else ("alerta" if self.status == "released" else "erro")
        )


def no_local_write(conn: Connection) -> None:
    return None


def outcome_of(exc: CrmError | CredentialsError) -> Outcome:
    """What the error that stopped an item means for it."""
    if isinstance(exc, RateLimited):
        return Outcome("released", exc.message, retry_after=exc.retry_after)
    if isinstance(exc, ReauthorizationNeeded):
        # not the item's fault: it waits, attempts intact, for an operator
        return Outcome("released", exc.message, release_delay=REAUTHORIZATION_WAIT)
    if isinstance(exc, PERMANENT):
        return Outcome("failed", exc.message)
    return Outcome("retry", exc.message)


def nothing_created(exc: CrmError) -> bool:
    """True when the error proves the CRM did not create the record."""
    if isinstance(exc, (RateLimited, ValidationFailed, AuthError, EntityNotSupported)):
        return True
    return isinstance(exc, ProviderUnreachable) and exc.cause in (
        "connection refused",
        "host not found",
        "TLS error",
    )
