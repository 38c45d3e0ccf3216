"""``crm_cli.cli.reporting``: every way a command can end, as one line and an exit code."""

from __future__ import annotations

import re

import pytest
import typer

from crm_cli.cli.reporting import Interrupted, Terminated, explain, report
from crm_cli.errors import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_TERMINATED,
    EXIT_USAGE,
    ConfigError,
    DatabaseError,
    InvalidRequest,
)


@pytest.mark.parametrize(
    ("exc", "code", "line"),
    [
        (ConfigError("config error in c.yaml: sync: bad"), EXIT_USAGE, "error: config error"),
        (InvalidRequest("queue item #3 is completed"), EXIT_USAGE, "error: queue item #3"),
        (DatabaseError("database error: gone"), EXIT_FAILURE, "error: database error: gone"),
        (KeyError("nome"), EXIT_FAILURE, "internal error: KeyError: 'nome'"),
        (typer.Abort(), EXIT_FAILURE, "aborted"),
        (KeyboardInterrupt(), EXIT_INTERRUPTED, "interrupted"),
        (Interrupted(), EXIT_INTERRUPTED, "interrupted"),
        (Terminated(), EXIT_TERMINATED, "interrupted (SIGTERM)"),
        (Interrupted(by_sigterm=True), EXIT_TERMINATED, "interrupted (SIGTERM)"),
    ],
)
def test_each_ending_is_one_line_and_its_code(capsys, exc, code, line):
    assert report(exc) == code
    err = capsys.readouterr().err
    assert re.sub(r"^\[[\d\- :]+\] ", "", err).startswith(f"crm-cli: {line}")
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_an_internal_error_points_at_verbose():
    message, code = explain(ValueError("x"))
    assert message.endswith("(run with --verbose for the traceback)")
    assert code == EXIT_FAILURE


def test_an_exit_keeps_its_code_and_says_nothing(capsys):
    assert report(typer.Exit(3)) == 3
    assert capsys.readouterr().err == ""


def test_with_verbose_an_internal_error_does_not_point_at_verbose():
    from crm_cli.cli import reporting

    reporting.set_verbose(True)
    try:
        message, _code = explain(KeyError("nome"))
    finally:
        reporting.set_verbose(False)
    assert message == "internal error: KeyError: 'nome'"
