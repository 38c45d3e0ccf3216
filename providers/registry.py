"""Finds providers by name: folders of this package, then entry points."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from importlib.metadata import entry_points
from typing import TYPE_CHECKING

import crm_cli.providers
from crm_cli.providers.base import ProviderInfo

from crm_cli.errors import ConfigError, EntityNotSupported, UsageError

if TYPE_CHECKING:
    from crm_cli.providers.client import BaseClient
    from sqlalchemy.engine import Engine

    from crm_cli.integrations import Integracoes, StoreConfig

ENTRY_POINT_GROUP = "crm_cli.providers"


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
        raise UsageError(f"unknown provider '{name}' (known providers: {known})")
    return info


def _number(settings: dict, key: str, default: float | None, id_loja: int) -> float | None:
    value = settings.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ConfigError(
            f"store {id_loja}: configuracoes.{key} must be a number >= 0, got {value!r} "
            f"(fix it with 'crm-cli config set --loja {id_loja} --provider … --setting {key}=N')"
        )
    return value


def open_client(
    store: StoreConfig, engine: Engine, integracoes: Integracoes | None = None
) -> BaseClient:
    """The provider client for a store, paced by its account's shared rate limiter."""
    from crm_cli.engine.ratelimit import Limits, SharedRateLimiter, quota_key

    info = get_provider(store.provider)
    if not info.client:
        raise EntityNotSupported(f"provider {info.name} has no API client in this version")
    settings = store.configuracoes
    limits = Limits(
        per_second=_number(settings, "rate_limit_per_second", info.rate_per_second, store.id_loja),
        daily=int(_number(settings, "daily_limit", info.daily_limit, store.id_loja) or 0) or None,
    )
    account = str(store.credenciais.get(info.quota_credential) or f"loja-{store.id_loja}")
    limiter = SharedRateLimiter(engine, quota_key(info.name, account), limits)
    client_class = info.load(info.client)
    client = client_class(info, store.credenciais, settings, limiter)
    client.store = (integracoes, store.id_loja)  # for clients that rotate their tokens
    return client
