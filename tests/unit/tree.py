"""The checkout's code as the installed package names it (what layout tests walk)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# folder in the checkout -> the package it installs as (setup.py)
MOUNTS = {
    "crm_cli": "crm_cli",
    "providers": "crm_cli.providers",
    "migrations": "crm_cli.migrations",
}


def modules() -> dict[str, Path]:
    """Every module of the installed package, by dotted name, with its file."""
    found = {}
    for folder, package in MOUNTS.items():
        for path in (ROOT / folder).rglob("*.py"):
            parts = list(path.relative_to(ROOT / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join([package, *parts])] = path
    return found
