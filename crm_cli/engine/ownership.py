"""Which stores share CRM records, and which store a shared ERP row's external_id is.

A shop's stores (lojas) share client and product rows when the entity has no
store column. Each store's CRM knows a row by its own id — the store's link
(``crm_cli.engine.links``) — and stores on the same CRM account share records,
so they share links. The ERP's own ``external_id`` column is the PHP
application's view of one store's ids, written only by the store that owns the
row:

- the row's store, when ``entities.<e>.store_column`` is set;
- else the store named by ``entities.<e>.external_id_store`` (or any store on
  its account);
- else, when every active store is on one CRM account, any of them.

With stores on two or more accounts sharing an entity's rows and no owner
configured, the column has no owner: that is ``ambiguous``, and crm-cli says so
(``config set``/``enable``) and holds that entity's items until it is settled.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from crm_cli.engine.clients import usable
from crm_cli.errors import CrmError
from crm_cli.integrations import Integracoes, StoreConfig
from crm_cli.providers.registry import get_provider
from crm_cli.settings import EntityMapping, Settings


def account_of(store: StoreConfig) -> str:
    """The CRM account a store works on: provider, endpoint and account credential
    (hashed: never the secret itself). Two stores with the same one share records."""
    info = get_provider(store.provider)
    parts = (
        store.provider,
        str(store.setting("api_base_url") or info.default_base_url),
        str(store.setting("company_domain") or ""),
        str(store.credenciais.get(info.quota_credential) or f"loja-{store.id_loja}"),
    )
    return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()[:24]


@dataclass(frozen=True)
class Ownership:
    # each active store -> the active stores on its CRM account, itself first
    groups: Mapping[int, tuple[int, ...]]

    @classmethod
    def of(cls, integracoes: Integracoes) -> Ownership:
        """The active stores as they are configured now (those it can use)."""
        accounts: dict[int, str] = {}
        for summary in integracoes.listar():
            if not summary.ativo:
                continue
            try:
                store = usable(integracoes.obter_configuracao(summary.id_loja))
            except CrmError:
                # unreadable credentials, settings it cannot use, an unknown provider: the
                # store sends nothing (its items wait for an operator), so it shares no rows
                continue
            accounts[summary.id_loja] = account_of(store)
        groups = {
            loja: (loja, *sorted(o for o, a in accounts.items() if a == account and o != loja))
            for loja, account in accounts.items()
        }
        return cls(groups)

    def group(self, id_loja: int) -> tuple[int, ...]:
        """The stores whose links ``id_loja`` shares (its own first)."""
        return self.groups.get(id_loja, (id_loja,))

    def accounts(self) -> list[tuple[int, ...]]:
        """The active stores, by CRM account."""
        return sorted({tuple(sorted(group)) for group in self.groups.values()})

    def owns(self, id_loja: int, mapping: EntityMapping, row: Mapping[str, Any]) -> bool:
        """Whether ``id_loja`` writes ``row``'s external_id column (see the module doc)."""
        if mapping.store_column:
            return _same_store(row.get(mapping.store_column), self.group(id_loja))
        if mapping.external_id_store is not None:
            return mapping.external_id_store in self.group(id_loja)
        return len(self.accounts()) <= 1

    def ambiguous(self, mapping: EntityMapping) -> bool:
        """Stores on several accounts share the rows, and no owner is configured."""
        shared = mapping.store_column is None and mapping.external_id_store is None
        return shared and len(self.accounts()) > 1

    def ambiguities(self, settings: Settings) -> list[str]:
        """One line per entity whose external_id column has no owner: what to set."""
        return [
            ambiguity_message(mapping, self.accounts())
            for mapping in settings.entities.values()
            if self.ambiguous(mapping)
        ]


def ambiguity_message(mapping: EntityMapping, accounts: list[tuple[int, ...]]) -> str:
    stores = ", ".join(str(group[0]) for group in accounts)
    return (
        f"stores {stores} are on different CRM accounts and share the rows of "
        f"{mapping.table}: set entities.{mapping.name}.external_id_store to the store whose "
        f"CRM ids {mapping.table}.{mapping.external_id} holds (or store_column, if each row "
        "belongs to one store)"
    )


def _same_store(value: Any, group: tuple[int, ...]) -> bool:
    try:
        return int(value) in group
    except (TypeError, ValueError):
        return False
