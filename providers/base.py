"""The provider contract: what a provider declares about itself and its entities.

A provider is a folder ``providers/<name>/`` with:
  - ``config.py``: ``PROVIDER = ProviderInfo(...)`` (base URL, limits, credentials,
    the endpoint map of each entity, entities it cannot serve and why);
  - a client (a ``crm_cli.providers.client.BaseClient`` subclass) named by ``client``;
  - ``handlers/<entity>.py``: pure ``to_external(row)`` and ``to_internal(record)``,
    plus the natural-key lookup (``lookup_params(row)``, ``matches(record, row)``).
Adding an entity is a handler plus its ``EntitySpec``; nothing outside the folder.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Protocol

OPERATIONS = ("listar", "criar", "atualizar", "buscar", "deletar")


class Handler(Protocol):
    def to_external(self, row: Mapping[str, Any]) -> dict[str, Any]: ...

    def to_internal(self, record: Mapping[str, Any]) -> dict[str, Any]: ...

    def lookup_params(self, row: Mapping[str, Any]) -> dict[str, Any] | None: ...

    def matches(self, record: Mapping[str, Any], row: Mapping[str, Any]) -> bool: ...


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # may hold {id}


@dataclass(frozen=True)
class EntitySpec:
    name: str  # the ERP's entity: cliente, produto, venda, atividade …
    resource: str  # the CRM's word for it, for messages (clientes, persons …)
    handler: str  # dotted module path of the handler
    endpoints: Mapping[str, Endpoint]  # operation (OPERATIONS) -> endpoint

    def load_handler(self) -> Handler | ModuleType:
        return importlib.import_module(self.handler)


@dataclass(frozen=True)
class ProviderInfo:
    name: str  # snake_case, as stored in crm_integracoes.provider
    title: str  # as people write it
    default_base_url: str  # overridable per store by configuracoes.api_base_url
    required_credentials: tuple[str, ...]  # keys crm_integracoes.credenciais must hold
    client: str = ""  # "module:Class" of the client, imported only when used
    quota_credential: str = ""  # the credential naming the account whose quota is shared
    rate_per_second: float | None = None  # the provider's limit, per account
    daily_limit: int | None = None
    entities: Mapping[str, EntitySpec] = field(default_factory=dict)
    unsupported: Mapping[str, str] = field(default_factory=dict)  # entity -> why not
    emulator: str = ""  # "module:Class" of its loopback emulator
    # The zone of the API's timestamps that carry no offset, when its documentation
    # fixes one (Pipedrive: UTC); None: the account's own (see BaseClient.record_zone).
    record_time_zone: str | None = None
    # The provider's own settings (configuracoes keys) and the check of each
    # (crm_cli.store_settings): ``config set`` refuses a bad value, a stored one
    # makes the store wait, naming it.
    settings: Mapping[str, Callable[[Any], str | None]] = field(default_factory=dict)

    def load(self, dotted: str) -> Any:
        module, _, attr = dotted.partition(":")
        return getattr(importlib.import_module(module), attr)


def crud(path: str, update: str = "PUT") -> dict[str, Endpoint]:
    """The endpoint map of a plain REST resource: /things and /things/{id}."""
    return {
        "listar": Endpoint("GET", path),
        "criar": Endpoint("POST", path),
        "buscar": Endpoint("GET", f"{path}/{{id}}"),
        "atualizar": Endpoint(update, f"{path}/{{id}}"),
        "deletar": Endpoint("DELETE", f"{path}/{{id}}"),
    }
