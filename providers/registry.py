"""Finds providers by name: folders of this package, then entry points."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from importlib.metadata import entry_points

import providers
from crm_cli.errors import UsageError
from providers.base import ProviderInfo

ENTRY_POINT_GROUP = "crm_cli.providers"


@cache
def known_providers() -> dict[str, ProviderInfo]:
    """Every provider installed, by name."""
    found: dict[str, ProviderInfo] = {}
    for module in pkgutil.iter_modules(providers.__path__):
        if module.ispkg:
            config = importlib.import_module(f"providers.{module.name}.config")
            found[config.PROVIDER.name] = config.PROVIDER
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        info = entry.load()
        found.setdefault(info.name, info)
    return found


def get_provider(name: str) -> ProviderInfo:
    try:
        return known_providers()[name]
    except KeyError:
        known = ", ".join(sorted(known_providers()))
        raise UsageError(f"unknown provider '{name}' (known providers: {known})") from None
