"""What an error means, decided once: for the item, its store, its account, or the run.

Every path that works on items — cron runs, ``sync --now``, ``import``,
``ServiceCrm``, ``test-connection`` — asks ``decide`` and acts on its answer:

| verdict       | what happens                                                       |
|---------------|--------------------------------------------------------------------|
| RETRY         | the item is tried again after its backoff; the attempt is spent    |
| FAIL          | the item fails now: no retry can fix it                            |
| PARK_STORE    | the store's items wait, attempts intact, until an operator acts    |
| PARK_ACCOUNT  | the CRM account waits (429, spent budget, a firewall's 403 page,   |
|               | open circuit): its stores' items go back, attempts intact; other   |
|               | accounts carry on                                                  |
| FATAL         | the run stops: what it holds goes back untouched; exit 1           |

The README's "When something goes wrong" table is this table.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from crm_cli.errors import (
    AuthError,
    ConfigError,
    CredentialsError,
    CrmError,
    DatabaseError,
    EntityNotConfigured,
    EntityNotSupported,
    NotFoundError,
    ProviderTimeout,
    ProviderUnreachable,
    RateLimited,
    RecordNotFound,
    RetryableProviderError,
    RowRefused,
    SecretMissing,
    SecretWrong,
    StoreUnavailable,
    UnexpectedRedirect,
    ValidationFailed,
)


class Verdict(enum.Enum):
    RETRY = "retry"
    FAIL = "fail"
    PARK_STORE = "park store"
    PARK_ACCOUNT = "park account"
    FATAL = "fatal"


class CannotSucceed(CrmError):
    """An item that no retry can fix (record missing, unknown create outcome, …)."""


class WaitingFor(CrmError):
    """An item that needs other records in the CRM first (a sale's products): it is
    tried again after its backoff, and ``needs`` — (entidade, id_registro) pairs —
    are queued so that they get there."""

    def __init__(self, message: str, needs: list[tuple[str, int]]) -> None:
        super().__init__(message)
        self.needs = needs


# Seconds a parked store's items wait before a run looks at the store again.
# ``config enable``, new credentials and ``queue retry`` bring them back at once.
PARK_SECONDS = 600


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    message: str
    wait: float | None = None  # PARK_*: seconds before the items come back
    # The CRM did not answer at all (refused, timed out): the run leaves the
    # store's other items for later instead of waiting on it again.
    unanswered: bool = False


def decide(exc: BaseException) -> Decision:
    """The verdict on the error that stopped an item (or a store, or the run)."""
    refused = refused_row(exc) if _is_database_error(exc) else None
    if refused is not None:
        return Decision(Verdict.FAIL, f"the ERP refused the record: {refused}")
    message = exc.message if isinstance(exc, CrmError) else _internal(exc)
    verdict = _verdict(exc)
    unanswered = isinstance(exc, (ProviderTimeout, ProviderUnreachable))
    wait: float | None = None
    if verdict is Verdict.PARK_ACCOUNT:
        wait = getattr(exc, "retry_after", None)
    elif verdict is Verdict.PARK_STORE:
        wait = PARK_SECONDS
    return Decision(verdict, message, wait, unanswered)


def _verdict(exc: BaseException) -> Verdict:
    # The order matters: subclasses before the kinds they refine.
    if isinstance(exc, (SecretMissing, SecretWrong)):
        return Verdict.FATAL  # no store's credentials can be read: nothing would work
    if isinstance(exc, RateLimited):  # CircuitOpen included
        return Verdict.PARK_ACCOUNT
    if isinstance(exc, StoreUnavailable):
        # a disabled store or unusable stored settings wait; a store that does not
        # exist (a queue row pointing at nothing) cannot be waited for
        return Verdict.FAIL if exc.cause == "store not configured" else Verdict.PARK_STORE
    if isinstance(exc, (AuthError, UnexpectedRedirect, CredentialsError)):
        return Verdict.PARK_STORE  # 401/403, re-authorisation, wrong URL, undecryptable
    if isinstance(exc, WaitingFor):
        return Verdict.RETRY  # what it needs is queued: it is there by the next attempt
    if isinstance(exc, RetryableProviderError):
        return Verdict.RETRY  # 5xx, timeouts, connection failures, nonsense answers
    if isinstance(
        exc,
        (
            CannotSucceed,
            ValidationFailed,
            RecordNotFound,
            EntityNotSupported,
            EntityNotConfigured,
            NotFoundError,
            RowRefused,
        ),
    ):
        return Verdict.FAIL
    if isinstance(exc, (ConfigError, DatabaseError)):
        return Verdict.FATAL  # crm-cli's own configuration; the database itself
    if _is_database_error(exc):
        return Verdict.FATAL
    return Verdict.RETRY  # anything else (a bug in a handler): this item only, with backoff


def _internal(exc: BaseException) -> str:
    if _is_database_error(exc):
        from crm_cli.db.engine import describe_db_error

        return describe_db_error(exc).message
    return f"internal error: {type(exc).__name__}: {exc}"


def _is_database_error(exc: BaseException) -> bool:
    import sqlalchemy as sa

    return isinstance(exc, sa.exc.SQLAlchemyError)


# MySQL/MariaDB errors that are the record's fault, not the database's: no
# default for a NOT NULL column (1364), NULL in one (1048), duplicate key (1062),
# foreign key (1451/1452), out of range (1264), truncated (1265), bad value
# (1292, 1366), too long (1406), CHECK constraint (3819, MariaDB 4025).
_ROW_ERRORS = {1048, 1062, 1264, 1265, 1292, 1364, 1366, 1406, 1451, 1452, 3819, 4025}


def refused_row(exc: BaseException) -> str | None:
    """Why the ERP's database refused a record (None: the database itself failed)."""
    import sqlalchemy as sa

    orig = getattr(exc, "orig", None)
    code = orig.args[0] if orig is not None and orig.args else None
    row_fault = isinstance(exc, (sa.exc.IntegrityError, sa.exc.DataError)) or code in _ROW_ERRORS
    if not row_fault:
        return None
    return str(orig if orig is not None else exc).splitlines()[0][:300]


def nothing_created(exc: CrmError) -> bool:
    """True when the error proves the CRM did not create the record."""
    if isinstance(
        exc, (RateLimited, ValidationFailed, AuthError, EntityNotSupported, UnexpectedRedirect)
    ):
        return True
    return isinstance(exc, ProviderUnreachable) and exc.cause in (
        "connection refused",
        "host not found",
        "TLS error",
    )
