"""Finds providers by name: folders of this package, then entry points. It only
discovers; clients are opened by ``crm_cli.engine.clients``."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from importlib.metadata import entry_points

import crm_cli.providers
from crm_cli.errors import InvalidRequest
from crm_cli.providers import legacy_path
from crm_cli.providers.base import ProviderInfo

ENTRY_POINT_GROUP = "crm_cli.providers"
legacy_path.install()  # plug-ins written for 0.1 import providers.base


@cache
def _folder_providers() -> dict[str, ProviderInfo]:
    found: dict[str, ProviderInfo] = {}
    for module in pkgutil.iter_modules(crm_cli.providers.__path__):
        if module.ispkg:
            config = importlib.import_module(f"crm_cli.providers.{module.name}.config")
            found[config.PROVIDER.name] = config.PROVIDER
    return found


@cache
def known_providers() -> dict[str, ProviderInfo]:
    """Every provider installed, by name (a folder of this package wins over a plugin)."""
    found = dict(_folder_providers())
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        info = entry.load()
        found.setdefault(info.name, info)
    return found


def get_provider(name: str) -> ProviderInfo:
    # Folders first: reading every installed distribution's entry points costs
    # milliseconds per installed package, paid by every run that has work.
    info = _folder_providers().get(name) or known_providers().get(name)
    if info is None:
        known = ", ".join(sorted(known_providers()))
        raise InvalidRequest(f"unknown provider '{name}' (known providers: {known})")
    return info
