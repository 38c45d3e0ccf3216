"""The one place exceptions become a line on stderr and an exit code.

Domain code raises ``crm_cli.errors.CrmError`` kinds; ``report`` prints them as
one line and returns their exit code. Anything unexpected is reported as an
internal error; its traceback is shown only with ``--verbose``, because a
traceback's locals can hold decrypted credentials.
"""

from __future__ import annotations

import os
import signal
import sys
import traceback
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from typer.core import TyperGroup

from crm_cli.errors import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_TERMINATED,
    CrmError,
    CrmWarning,
)

PROG = "crm-cli"


class Interrupted(Exception):
    """A command stopped by Ctrl-C or SIGTERM. Typer would turn it into a silent exit
    code; it is reported like every other ending instead."""

    def __init__(self, by_sigterm: bool = False) -> None:
        super().__init__("SIGTERM" if by_sigterm else "SIGINT")
        self.by_sigterm = by_sigterm


class Terminated(KeyboardInterrupt):
    """SIGTERM (what systemd, ``timeout`` and ``kill`` send), raised where the command
    is, like Ctrl-C: a run hands back what it did not do and records what it did."""


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """While the command runs, SIGTERM stops it the way Ctrl-C does."""

    def terminate(signum: int, frame: Any) -> None:
        raise Terminated()

    try:
        previous = signal.signal(signal.SIGTERM, terminate)
    except ValueError:  # not the main thread: signals are not ours to handle
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


_verbose = False  # set by the root callback (set_verbose); read when an error is reported


def explain(exc: BaseException) -> tuple[str, int]:
    """What an exception means to the operator (one line) and its exit code."""
    if isinstance(exc, CrmError):
        return exc.message, exc.exit_code
    db_error = _as_database_error(exc)
    if db_error is not None:
        return db_error.message, db_error.exit_code
    hint = "" if _verbose else " (run with --verbose for the traceback)"
    return f"internal error: {type(exc).__name__}: {exc}{hint}", EXIT_FAILURE


def report(exc: BaseException) -> int:
    """Print an exception as one line on stderr and return its exit code.

    The only translation of exceptions into exit codes. Tracebacks appear only
    with --verbose: a traceback's locals can hold decrypted credentials.
    """
    if isinstance(exc, typer.Exit):
        return exc.exit_code
    if isinstance(exc, BrokenPipeError) or _stdout_closed(exc):
        # The reader went away (`crm-cli ... | head`): nobody is left to tell.
        _silence_stdout()
        return EXIT_FAILURE
    if isinstance(exc, SystemExit):  # click's own exits (shell completion): their code
        return exc.code if isinstance(exc.code, int) else EXIT_OK if exc.code is None else 1
    if isinstance(exc, typer.Abort):
        _say("aborted")
        return EXIT_FAILURE
    if isinstance(exc, typer.TyperException):  # bad arguments, options, values
        ctx = getattr(exc, "ctx", None)
        hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
        _say(f"error: {exc.format_message()}{hint}")
        return exc.exit_code
    if isinstance(exc, (KeyboardInterrupt, Interrupted)):
        by_sigterm = isinstance(exc, Terminated) or getattr(exc, "by_sigterm", False)
        _say("interrupted (SIGTERM)" if by_sigterm else "interrupted")
        return EXIT_TERMINATED if by_sigterm else EXIT_INTERRUPTED
    show_traceback(exc)
    message, code = explain(exc)
    _say(message if message.startswith("internal error") else f"error: {message}")
    return code


def _stdout_closed(exc: BaseException) -> bool:
    """Click's own reaction to a closed stdout: SystemExit(1) after an EPIPE."""
    context = exc.__context__
    return isinstance(exc, SystemExit) and isinstance(context, OSError) and context.errno == 32


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so flushing it at exit raises nothing more."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def set_verbose(verbose: bool) -> None:
    global _verbose
    _verbose = verbose


def show_traceback(exc: BaseException) -> None:
    if _verbose:
        traceback.print_exception(exc, file=sys.stderr)


def _as_database_error(exc: BaseException) -> CrmError | None:
    sqlalchemy = sys.modules.get("sqlalchemy")
    if sqlalchemy is None or not isinstance(exc, sqlalchemy.exc.SQLAlchemyError):
        return None
    from crm_cli.db.backends import describe_db_error

    return describe_db_error(exc)


def _say(message: str) -> None:
    from crm_cli.cli.render import say

    say(f"{PROG}: {message}")


@contextmanager
def operator_warnings() -> Iterator[None]:
    """Library code's ``CrmWarning``s, each printed as one line on stderr, every time
    (not once per place, as Python's default filter would)."""
    shown = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):  # type: ignore[no-untyped-def]
        if issubclass(category, CrmWarning):
            _say(f"warning: {message}")
        else:
            shown(message, category, filename, lineno, file, line)

    with warnings.catch_warnings():
        warnings.simplefilter("always", CrmWarning)
        warnings.showwarning = show
        yield


class CrmGroup(TyperGroup):
    """Runs the command tree and maps whatever escapes it through ``report``."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt as exc:
            raise Interrupted(by_sigterm=isinstance(exc, Terminated)) from None

    def main(  # type: ignore[override]
        self,
        args: list[str] | None = None,
        prog_name: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        global _verbose
        _verbose = False
        try:
            with operator_warnings(), sigterm_as_interrupt():
                result = super().main(
                    args=args, prog_name=prog_name or PROG, standalone_mode=False, **extra
                )
            code = result if isinstance(result, int) else EXIT_OK
        except BaseException as exc:  # the one place every error is turned into a code
            code = report(exc)
        if standalone_mode:
            sys.exit(code)
        return code
