"""Authorising a Bling store: the consent URL, then the code exchanged for tokens.

Bling's OAuth2 flow needs a person: the account's owner opens the consent page
and brings back the ``code`` Bling puts on the page it returns to. The CLI asks
for it (``config bling-authorize``); this module does everything else. The
tokens are saved encrypted, a store waiting for re-authorisation is back in
service, and its waiting items are due again.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine

from crm_cli.engine.clients import open_client
from crm_cli.engine.queue import unpark_store
from crm_cli.errors import CredentialsMissing, InvalidRequest, NotFoundError
from crm_cli.integrations import REAUTHORIZATION, Integracoes, StoreConfig

APP_CREDENTIALS = ("client_id", "client_secret")


@dataclass(frozen=True)
class BlingAuthorization:
    """An authorisation under way: the page to open, and how to finish it."""

    database: Engine
    integracoes: Integracoes
    store: StoreConfig  # as it will be saved (not saved yet)
    client: Any  # the store's BlingClient
    url: str

    def finish(self, code: str) -> StoreConfig:
        """Exchange the code for tokens and save them; the store as saved."""
        code = code.strip()
        if not code:
            raise InvalidRequest("no authorisation code given")
        tokens = self.client.exchange_code(code)
        saved = self.integracoes.salvar_configuracao(
            self.store.id_loja,
            "bling",
            {**self.store.credenciais, **tokens},
            remover_configuracoes=[REAUTHORIZATION],
        )
        unpark_store(self.database, self.store.id_loja)
        return saved


def begin_bling_authorization(
    database: Engine,
    integracoes: Integracoes,
    id_loja: int,
    app_credentials: dict[str, Any] | None = None,
) -> BlingAuthorization:
    """Start authorising store ``id_loja`` on Bling: its stored configuration (or none
    yet), with ``app_credentials`` (client_id, client_secret) over the stored ones."""
    try:
        stored = integracoes.obter_configuracao(id_loja)
    except NotFoundError:
        if not app_credentials:
            raise CredentialsMissing(
                f"store {id_loja} has no configuration: the Bling app's client_id and "
                "client_secret are needed"
            ) from None
        credentials, settings = {}, {}
    else:
        if stored.provider != "bling":
            raise InvalidRequest(f"store {id_loja} uses {stored.provider}, not bling")
        credentials, settings = dict(stored.credenciais), dict(stored.configuracoes)
    credentials.update(app_credentials or {})
    for key in APP_CREDENTIALS:
        if not credentials.get(key):
            raise CredentialsMissing(f"the Bling credentials lack {key}")
    store = StoreConfig(id_loja, "bling", True, settings, None, None, None, credentials)
    client = open_client(store, database, integracoes)
    url = client.authorize_url(state=secrets.token_urlsafe(8))
    return BlingAuthorization(database, integracoes, store, client, url)
