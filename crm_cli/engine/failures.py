"""What an error means, decided once: for the item, its store, its account, or the run.

Every path that works on items or stores — cron runs, ``sync --now``, ``import``,
``ServiceCrm``, ``test-connection``, the dry run — asks ``decide`` and acts on
its answer:

| verdict       | what happens                                                       |
|---------------|--------------------------------------------------------------------|
| RETRY         | the item is tried again after its backoff; the attempt is spent    |
| FAIL          | the item fails now: no retry can fix it                            |
| PARK_STORE    | the store's items wait, attempts intact, until an operator acts    |
| PARK_ACCOUNT  | the CRM account waits (429, spent budget, a firewall's 403 page,   |
|               | open circuit): its stores' items go back, attempts intact; other   |
|               | accounts carry on                                                  |
| FATAL         | the run stops: what it holds goes back untouched; exit 1           |

``VERDICTS`` is the table, error kind by error kind; the README's "When
something goes wrong" table is this table. How long a parked store or a
paused account waits is the run's policy (``SyncSettings``), not the error's.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from crm_cli.errors import (
    AuthError,
    CannotSucceed,
    CircuitOpen,
    ConfigError,
    CredentialsError,
    CrmError,
    DatabaseError,
    EntityNotConfigured,
    EntityNotSupported,
    EntityUnavailable,
    InvalidRequest,
    NotFoundError,
    ProviderError,
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
    UsageError,
    ValidationFailed,
    WaitingFor,
)


class Verdict(enum.Enum):
    RETRY = "retry"
    FAIL = "fail"
    PARK_STORE = "park store"
    PARK_ACCOUNT = "park account"
    FATAL = "fatal"


# Error kind → verdict. The first row the error is an instance of decides, so a
# kind comes before the kinds it refines. Every CrmError subclass is covered
# (tests/unit/engine/test_failures.py walks the class tree).
VERDICTS: tuple[tuple[type[BaseException], Verdict], ...] = (
    # no store's credentials can be read: nothing would work
    (SecretMissing, Verdict.FATAL),
    (SecretWrong, Verdict.FATAL),
    # the account is over its limit, or its CRM is down (CircuitOpen)
    (RateLimited, Verdict.PARK_ACCOUNT),
    # a disabled store, unusable stored settings (see _store_verdict)
    (StoreUnavailable, Verdict.PARK_STORE),
    # 401/403, re-authorisation, wrong URL, undecryptable credentials
    (AuthError, Verdict.PARK_STORE),
    (UnexpectedRedirect, Verdict.PARK_STORE),
    (CredentialsError, Verdict.PARK_STORE),
    # what it needs is queued: it is there by the next attempt
    (WaitingFor, Verdict.RETRY),
    # 5xx, timeouts, connection failures, nonsense answers
    (RetryableProviderError, Verdict.RETRY),
    # no retry can fix these
    (CannotSucceed, Verdict.FAIL),
    (ValidationFailed, Verdict.FAIL),
    (RecordNotFound, Verdict.FAIL),
    (EntityNotSupported, Verdict.FAIL),
    (EntityNotConfigured, Verdict.FAIL),
    (NotFoundError, Verdict.FAIL),
    (RowRefused, Verdict.FAIL),
    (InvalidRequest, Verdict.FAIL),
    # a CRM failure no subclass names: maybe passing, this item only, with backoff
    (ProviderError, Verdict.RETRY),
    # crm-cli's own configuration or command line; the database itself
    (ConfigError, Verdict.FATAL),
    (UsageError, Verdict.FATAL),
    (DatabaseError, Verdict.FATAL),
    # any other error of ours: this item only, with backoff
    (CrmError, Verdict.RETRY),
)

# A store that does not exist (a queue row pointing at nothing) cannot be waited for.
STORE_NOT_CONFIGURED = "store not configured"

# Causes of a ProviderUnreachable that prove the request never reached the CRM.
_NEVER_SENT = ("connection refused", "host not found", "TLS error")


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    message: str
    cause: str  # a few words (test-connection's FAIL line)
    # PARK_ACCOUNT: the seconds the CRM asked for (None: the policy's default)
    retry_after: float | None = None
    # PARK_STORE of one entity only (the store's other entities go on); None: all
    entidade: str | None = None
    # The CRM did not answer at all (refused, timed out): the run leaves the
    # store's other items for later instead of waiting on it again.
    unanswered: bool = False
    # The CRM certainly did not act on the request: it refused it, or never got it
    # (a create that failed so created nothing; no lookup is needed before a retry).
    crm_untouched: bool = False


def decide(exc: BaseException) -> Decision:
    """The verdict on the error that stopped an item (or a store, or the run)."""
    refused = refused_row(exc) if _is_database_error(exc) else None
    if refused is not None:
        return Decision(Verdict.FAIL, f"the ERP refused the record: {refused}", "record refused")
    verdict = _verdict(exc)
    return Decision(
        verdict,
        exc.message if isinstance(exc, CrmError) else _internal(exc),
        _cause(exc),
        retry_after=exc.retry_after if isinstance(exc, RateLimited) else None,
        entidade=exc.entidade if isinstance(exc, EntityUnavailable) else None,
        unanswered=isinstance(exc, (ProviderTimeout, ProviderUnreachable)),
        crm_untouched=_crm_untouched(exc, verdict),
    )


def _verdict(exc: BaseException) -> Verdict:
    if _is_database_error(exc):
        return Verdict.FATAL
    for kind, verdict in VERDICTS:
        if isinstance(exc, kind):
            if kind is StoreUnavailable and exc.cause == STORE_NOT_CONFIGURED:  # type: ignore[attr-defined]
                return Verdict.FAIL
            return verdict
    return Verdict.RETRY  # anything else (a bug in a handler): this item only, with backoff


def _cause(exc: BaseException) -> str:
    if isinstance(exc, RateLimited) and not isinstance(exc, CircuitOpen):
        wait = f"{exc.retry_after:.0f}" if exc.retry_after is not None else "?"
        return f"rate limited (retry after {wait} s)"
    if isinstance(exc, CrmError):
        return exc.cause
    return "database error" if _is_database_error(exc) else "internal error"


def _crm_untouched(exc: BaseException, verdict: Verdict) -> bool:
    if isinstance(exc, ProviderUnreachable):
        return exc.cause in _NEVER_SENT
    # refused by the CRM: over its limit, a payload or a login it turned down,
    # an entity it does not have, a redirect away from the API
    return isinstance(exc, ProviderError) and verdict in (
        Verdict.PARK_ACCOUNT,
        Verdict.PARK_STORE,
        Verdict.FAIL,
    )


def nothing_created(exc: BaseException) -> bool:
    """True when the error proves the CRM did not create the record."""
    return decide(exc).crm_untouched


def _internal(exc: BaseException) -> str:
    if _is_database_error(exc):
        from crm_cli.db.backends import describe_db_error

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
