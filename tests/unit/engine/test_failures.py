"""``crm_cli.engine.failures``: one verdict per error kind, and what else an error means."""

from __future__ import annotations

import inspect

import pytest
import sqlalchemy as sa

from crm_cli import errors
from crm_cli.engine.failures import VERDICTS, Verdict, decide, nothing_created, refused_row

# What every error kind means, written out independently of the table in
# failures.py. A new CrmError subclass fails test_every_error_kind_is_decided
# until it is given a line here (and a row in VERDICTS if it needs one).
EXPECTED: dict[type[errors.CrmError], Verdict] = {
    errors.CrmError: Verdict.RETRY,  # an error of ours no kind names: this item, with backoff
    errors.UsageError: Verdict.FATAL,
    errors.NotSynced: Verdict.RETRY,  # `sync --now`'s ending: the engine never raises it
    errors.InvalidRequest: Verdict.FAIL,
    errors.CredentialsMissing: Verdict.FAIL,
    errors.ConfigError: Verdict.FATAL,
    errors.EntityNotConfigured: Verdict.FAIL,
    errors.SecretMissing: Verdict.FATAL,
    errors.DatabaseError: Verdict.FATAL,
    errors.RowRefused: Verdict.FAIL,
    errors.NotFoundError: Verdict.FAIL,
    errors.StoreUnavailable: Verdict.PARK_STORE,  # a disabled store ("store inactive")
    errors.StoreConfigError: Verdict.PARK_STORE,
    errors.EntityUnavailable: Verdict.PARK_STORE,  # of one entity: see Decision.entidade
    errors.OwnerUnsettled: Verdict.PARK_STORE,  # of one entity: see Decision.entidade
    errors.CredentialsError: Verdict.PARK_STORE,
    errors.SecretWrong: Verdict.FATAL,
    errors.CannotSucceed: Verdict.FAIL,
    errors.WaitingFor: Verdict.RETRY,
    errors.ProviderError: Verdict.RETRY,
    errors.AuthError: Verdict.PARK_STORE,
    errors.ReauthorizationNeeded: Verdict.PARK_STORE,
    errors.RecordNotFound: Verdict.FAIL,
    errors.ValidationFailed: Verdict.FAIL,
    errors.EntityNotSupported: Verdict.FAIL,
    errors.RetryableProviderError: Verdict.RETRY,
    errors.ProviderTimeout: Verdict.RETRY,
    errors.ProviderUnreachable: Verdict.RETRY,
    errors.UnexpectedAnswer: Verdict.RETRY,
    errors.UnexpectedRedirect: Verdict.PARK_STORE,
    errors.RateLimited: Verdict.PARK_ACCOUNT,
    errors.CircuitOpen: Verdict.PARK_ACCOUNT,
}


def every_error_kind() -> list[type[errors.CrmError]]:
    """CrmError and every subclass of it, found by walking the class tree."""
    found, todo = [], [errors.CrmError]
    while todo:
        kind = todo.pop()
        found.append(kind)
        todo.extend(kind.__subclasses__())
    return sorted(set(found), key=lambda k: k.__name__)


def an_instance(kind: type[errors.CrmError]) -> errors.CrmError:
    """``kind`` built with a message and, for kinds that take more, a plain value."""
    extra = {
        "cause": "store inactive",
        "retry_after": 5.0,
        "needs": [("produto", 1)],
        "position": 0,
        "entidade": "cliente",
    }
    params = list(inspect.signature(kind.__init__).parameters)[2:]  # after self, message
    return kind("what went wrong", **{name: extra[name] for name in params if name in extra})


@pytest.mark.parametrize("kind", every_error_kind(), ids=lambda k: k.__name__)
def test_every_error_kind_is_decided(kind):
    assert kind in EXPECTED, f"{kind.__name__} has no expected verdict: decide what it means"
    assert decide(an_instance(kind)).verdict is EXPECTED[kind]


def test_the_table_names_only_real_kinds_once():
    kinds = [kind for kind, _verdict in VERDICTS]
    assert len(kinds) == len(set(kinds))
    # a kind listed after one it refines would never be reached
    for position, kind in enumerate(kinds):
        for earlier in kinds[:position]:
            assert not issubclass(kind, earlier), f"{kind.__name__} is shadowed by {earlier}"


def test_a_store_that_does_not_exist_fails_its_item_instead_of_waiting():
    gone = errors.StoreUnavailable("store 9 has no CRM configuration", "store not configured")
    assert decide(gone).verdict is Verdict.FAIL
    assert decide(errors.StoreUnavailable("off", "store inactive")).verdict is Verdict.PARK_STORE


def test_errors_that_are_not_ours():
    assert decide(KeyError("nome")).verdict is Verdict.RETRY  # a handler's bug: this item
    assert decide(KeyError("nome")).message == "internal error: KeyError: 'nome'"
    gone = sa.exc.OperationalError("SELECT 1", {}, Exception(2006, "gone away"))
    assert decide(gone).verdict is Verdict.FATAL
    assert decide(gone).cause == "database error"


def test_a_database_refusing_a_row_fails_the_item_not_the_run():
    refused = sa.exc.OperationalError(
        "INSERT", {}, Exception(1364, "Field 'hash' doesn't have a default value")
    )
    decision = decide(refused)
    assert decision.verdict is Verdict.FAIL
    assert decision.message == (
        "the ERP refused the record: (1364, \"Field 'hash' doesn't have a default value\")"
    )
    assert refused_row(sa.exc.OperationalError("SELECT", {}, Exception(2013, "lost"))) is None


def test_the_cause_is_a_few_words():
    assert decide(errors.RateLimited("429", 30)).cause == "rate limited (retry after 30 s)"
    assert decide(errors.RateLimited("429")).cause == "rate limited (retry after ? s)"
    assert decide(errors.CircuitOpen("down", 30)).cause == "circuit open"
    assert decide(errors.CredentialsError("x")).cause == "cannot decrypt credentials"
    assert decide(errors.StoreConfigError("x")).cause == "configuration error"
    assert decide(ValueError("x")).cause == "internal error"


def test_a_paused_account_carries_the_wait_the_crm_asked_for():
    assert decide(errors.RateLimited("429", 12.5)).retry_after == 12.5
    assert decide(errors.ValidationFailed("v")).retry_after is None


def test_unanswered_requests_are_told_apart():
    assert decide(errors.ProviderTimeout("t")).unanswered
    assert decide(errors.ProviderUnreachable("r", "connection refused")).unanswered
    assert not decide(errors.RetryableProviderError("500")).unanswered


@pytest.mark.parametrize(
    ("error", "created_nothing"),
    [
        (errors.RateLimited("429", 1), True),
        (errors.CircuitOpen("down", 30), True),
        (errors.ValidationFailed("422"), True),
        (errors.AuthError("401"), True),
        (errors.EntityNotSupported("e"), True),
        (errors.UnexpectedRedirect("302"), True),
        (errors.ProviderUnreachable("r", "connection refused"), True),
        (errors.ProviderUnreachable("r", "host not found"), True),
        (errors.ProviderUnreachable("r", "TLS error"), True),
        # the request may have reached the CRM, which may have acted on it
        (errors.ProviderUnreachable("r", "connection reset"), False),
        (errors.ProviderTimeout("t"), False),
        (errors.RetryableProviderError("500"), False),
        (errors.UnexpectedAnswer("html"), False),
        (KeyError("id"), False),
    ],
)
def test_only_an_error_that_proves_it_says_nothing_was_created(error, created_nothing):
    assert nothing_created(error) is created_nothing
