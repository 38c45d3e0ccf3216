"""The project's error tree and the exit codes it maps to.

Domain code raises one of these; the CLI entry point (``crm_cli.cli.app``) is
the only place that turns them into a line on stderr and an exit code.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILURE = 1  # runtime failure: database unreachable, provider down, bad stored data
EXIT_USAGE = 2  # bad command line or configuration
EXIT_NOT_IMPLEMENTED = 3  # a subcommand whose issue has not landed yet


class CrmError(Exception):
    """Base of every error the tool reports to the operator as one line."""

    exit_code = EXIT_FAILURE

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(CrmError):
    """The command line asks for something impossible (bad value, conflicting flags)."""

    exit_code = EXIT_USAGE


class ConfigError(CrmError):
    """The YAML configuration is missing, unreadable or invalid."""

    exit_code = EXIT_USAGE


class DatabaseError(CrmError):
    """The database cannot be reached or refused a statement."""


class NotFoundError(CrmError):
    """A store, queue item or record named by the operator does not exist."""


class CredentialsError(CrmError):
    """Stored credentials cannot be decrypted, or cannot be written safely."""


class NotImplementedYet(CrmError):
    exit_code = EXIT_NOT_IMPLEMENTED
