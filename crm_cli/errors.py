"""The project's error tree and the exit codes it maps to.

Domain code raises one of these; the CLI entry point (``crm_cli.cli.reporting``)
is the only place that turns them into a line on stderr and an exit code, and
``crm_cli.engine.failures`` the only place that decides what one means for a
queue item and its store.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILURE = 1  # runtime failure: database unreachable, provider down, bad stored data
EXIT_USAGE = 2  # bad command line or configuration
EXIT_INTERRUPTED = 130  # stopped by Ctrl-C (128 + SIGINT, as shells report it)
EXIT_TERMINATED = 143  # stopped by SIGTERM (systemd, timeout, kill): 128 + 15


class CrmWarning(UserWarning):
    """Something the operator should know that stops nothing (an empty secret, the
    fallback key in use). Library code warns with it; the CLI prints each one as
    ``crm-cli: warning: …`` on stderr."""


class CrmError(Exception):
    """Base of every error the tool reports to the operator as one line.

    What an error means for a queue item, its store, its account or the run is
    decided in one place, ``crm_cli.engine.failures.decide``; ``cause`` is the
    few words ``test-connection`` and the log print for it.
    """

    exit_code = EXIT_FAILURE
    cause = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(CrmError):
    """The command line asks for something impossible (bad value, conflicting flags)."""

    exit_code = EXIT_USAGE
    cause = "usage error"


class InvalidRequest(CrmError):
    """A request to the library that cannot be carried out as asked (a queue item in
    the wrong state for it, a malformed setting): nothing was changed. The CLI
    reports it like a bad command line (exit 2); its message names no flag."""

    exit_code = EXIT_USAGE
    cause = "invalid request"


class CredentialsMissing(InvalidRequest):
    """Credentials a request needs were neither given nor stored (the CLI says how to
    give them)."""

    cause = "credentials missing"


class NotSynced(CrmError):
    """``sync --now``: the record was not synced (the outcome's message says why)."""

    cause = "not synced"


class ConfigError(CrmError):
    """The YAML configuration is missing, unreadable or invalid."""

    exit_code = EXIT_USAGE
    cause = "configuration error"


class EntityNotConfigured(ConfigError):
    """An entity the configuration does not map (a queue row may name one)."""


class SecretMissing(ConfigError):
    """The credentials secret ($JWT_SECRET) is not set: no store's credentials can be read."""


class DatabaseError(CrmError):
    """The database cannot be reached or refused a statement."""

    cause = "database error"


class NotFoundError(CrmError):
    """A store, queue item or record named by the operator does not exist."""

    cause = "not found"


class StoreUnavailable(NotFoundError):
    """A store's integration cannot be used: ``cause`` says why, in a few words."""

    def __init__(self, message: str, cause: str) -> None:
        super().__init__(message)
        self.cause = cause


class EntityUnavailable(StoreUnavailable):
    """One entity cannot be synced as configured (its line-item table is missing):
    that entity's items wait, the store's others go on, until an operator acts."""

    def __init__(self, message: str, entidade: str, cause: str) -> None:
        super().__init__(message, cause)
        self.entidade = entidade


class OwnerUnsettled(EntityUnavailable):
    """Stores on different CRM accounts share an entity's rows and no store owns their
    external_id column: that entity's items wait (the store's others go on) until the
    configuration names the owner."""

    def __init__(self, message: str, entidade: str) -> None:
        super().__init__(message, entidade, "owner not configured")


class StoreConfigError(StoreUnavailable):
    """A store's stored settings or credentials cannot be used as they are (a setting of
    the wrong type, a required credential missing): the store waits for an operator."""

    def __init__(self, message: str) -> None:
        super().__init__(message, "configuration error")


class CredentialsError(CrmError):
    """Stored credentials cannot be decrypted, or cannot be written safely."""

    cause = "cannot decrypt credentials"


class SecretWrong(CredentialsError):
    """No store's credentials decrypt: the secret is not the PHP application's."""


class RowRefused(DatabaseError):
    """The ERP's database refused to write a record (NOT NULL, constraint, too long …);
    ``position``: which of a transaction's records it was (None: not said)."""

    cause = "record refused"

    def __init__(self, message: str, position: int | None = None) -> None:
        super().__init__(message)
        self.position = position


# -- item errors: what stops one queue item -------------------------------------------


class CannotSucceed(CrmError):
    """An item that no retry can fix (record missing, unknown create outcome, …)."""

    cause = "cannot succeed"


class WaitingFor(CrmError):
    """An item that needs other records in the CRM first (a sale's products): it is
    tried again after its backoff, and ``needs`` — (entidade, id_registro) pairs —
    are queued so that they get there."""

    cause = "waiting for other records"

    def __init__(self, message: str, needs: list[tuple[str, int]]) -> None:
        super().__init__(message)
        self.needs = needs


# -- provider errors: what a CRM's answer (or silence) means --------------------


class ProviderError(CrmError):
    """A CRM call failed in a way no subclass names (the base of the kinds below)."""

    cause = "unexpected answer"


class AuthError(ProviderError):
    cause = "credentials rejected"


class ReauthorizationNeeded(AuthError):
    """The CRM refused the stored refresh token: an operator must authorise the store again."""

    cause = "re-authorization needed"


class RecordNotFound(ProviderError):
    cause = "not found"


class ValidationFailed(ProviderError):
    """The CRM refused the payload (4xx): retrying the same payload cannot help."""

    cause = "validation error"


class EntityNotSupported(ProviderError):
    cause = "entity not supported"


class RetryableProviderError(ProviderError):
    """The CRM failed for now (5xx): the same request may succeed later."""

    cause = "server error"


class ProviderTimeout(RetryableProviderError):
    cause = "timeout"


class ProviderUnreachable(RetryableProviderError):
    """DNS failure, refused connection, TLS failure: ``cause`` says which."""

    def __init__(self, message: str, cause: str) -> None:
        super().__init__(message)
        self.cause = cause


class UnexpectedAnswer(RetryableProviderError):
    """An answer that makes no sense (not JSON, wrong envelope): maybe a proxy's page."""

    cause = "unexpected answer"


class UnexpectedRedirect(ProviderError):
    """A 3xx where an API answers: the base URL is wrong (http→https, a login page)."""

    cause = "unexpected redirect"


class RateLimited(ProviderError):
    """Over the provider's limit: not the item's fault; wait ``retry_after`` seconds."""

    cause = "rate limited"

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class CircuitOpen(RateLimited):
    """The account's CRM failed to answer too many times in a row: it rests a while."""

    cause = "circuit open"
