"""Subcommands whose issues have not landed yet: real help, exit 3 when run."""

from __future__ import annotations

from crm_cli.cli.app import app
from crm_cli.errors import NotImplementedYet

_PENDING = {
    "cleanup": (
        "Delete completed queue items and log rows past their retention, in small "
        "chunks; never pending, processing or failed items."
    ),
    "full-sync": (
        "Queue every live row of an entity for sync to the CRM, at low priority, "
        "deduplicated against pending items."
    ),
    "import": (
        "Page through the CRM's records of an entity and bring them into the ERP; "
        "resumable after an interruption."
    ),
    "stats": (
        "Queue and log figures: pending, processing, completed today, failed, "
        "errors and success rate over 24 h; --json for monitoring."
    ),
    "queue": "Look at queue items and act on them: list, show, retry, cancel.",
    "demo": (
        "Offline demonstration: a throw-away SQLite database, sample ERP data, a local "
        "GestãoClick emulator, a full sync, and the resulting stats."
    ),
}


def _register(name: str, help_text: str) -> None:
    def command() -> None:
        raise NotImplementedYet(f"'{name}' is not implemented yet in this version")

    command.__doc__ = help_text
    app.command(name=name, help=help_text + "\n\n(Not implemented yet: exits with 3.)")(command)


for _name, _help in _PENDING.items():
    _register(_name, _help)
