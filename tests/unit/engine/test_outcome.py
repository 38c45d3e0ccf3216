"""``crm_cli.engine.outcome``: an error's outcome, and outcomes as values."""

from __future__ import annotations

import dataclasses

import pytest

from crm_cli import errors
from crm_cli.engine.outcome import Outcome, outcome_of
from crm_cli.states import LogStatus, OutcomeKind


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (errors.ValidationFailed("422"), OutcomeKind.FAILED),
        (errors.ProviderTimeout("t"), OutcomeKind.RETRY),
        (errors.AuthError("401"), OutcomeKind.PARKED),
        (errors.RateLimited("429", 3), OutcomeKind.RELEASED),
        (KeyError("nome"), OutcomeKind.RETRY),
    ],
)
def test_an_error_becomes_the_outcome_its_verdict_says(error, kind):
    assert outcome_of(error).kind is kind


def test_a_fatal_error_is_raised_again():
    secret = errors.SecretMissing("no secret")
    with pytest.raises(errors.SecretMissing):
        outcome_of(secret)


def test_a_paused_account_keeps_the_wait_and_an_unanswered_crm_says_so():
    assert outcome_of(errors.RateLimited("429", 12)).retry_after == 12
    assert outcome_of(errors.ProviderTimeout("t")).unanswered
    assert not outcome_of(errors.ValidationFailed("v")).unanswered


def test_outcomes_are_values():
    done = Outcome(OutcomeKind.RETRY, "timeout")
    with pytest.raises(dataclasses.FrozenInstanceError):
        done.kind = OutcomeKind.FAILED  # type: ignore[misc]
    failed = dataclasses.replace(done, kind=OutcomeKind.FAILED)
    assert (done.kind, failed.kind) == (OutcomeKind.RETRY, OutcomeKind.FAILED)


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        (OutcomeKind.COMPLETED, LogStatus.SUCESSO),
        (OutcomeKind.RETRY, LogStatus.ERRO),
        (OutcomeKind.FAILED, LogStatus.ERRO),
        (OutcomeKind.RELEASED, LogStatus.ALERTA),
        (OutcomeKind.PARKED, LogStatus.ALERTA),
    ],
)
def test_the_log_counts_waiting_as_a_warning_not_an_error(kind, status):
    assert Outcome(kind, "m").log_status is status
