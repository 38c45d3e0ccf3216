"""Bling API v3: what the provider is (spec: provider-apis.md §3)."""

from crm_cli import store_settings as check
from crm_cli.providers.base import EntitySpec, ProviderInfo, crud

_HANDLERS = "crm_cli.providers.bling.handlers"

PROVIDER = ProviderInfo(
    name="bling",
    title="Bling",
    default_base_url="https://api.bling.com.br/Api/v3",
    required_credentials=("client_id", "client_secret", "refresh_token"),
    client="crm_cli.providers.bling.client:BlingClient",
    quota_credential="client_id",  # limits are per Bling account (one app per account here)
    rate_per_second=3,
    daily_limit=120_000,
    entities={
        "cliente": EntitySpec("cliente", "contatos", f"{_HANDLERS}.cliente", crud("/contatos")),
        "produto": EntitySpec("produto", "produtos", f"{_HANDLERS}.produto", crud("/produtos")),
        "venda": EntitySpec(
            "venda", "pedidos de venda", f"{_HANDLERS}.venda", crud("/pedidos/vendas")
        ),
    },
    unsupported={"atividade": "Bling has no activities resource"},
    emulator="crm_cli.providers.bling.emulator:BlingEmulator",
    settings={
        # the parcelas' payment form: an integer id (VendasParcelaFormaPagamentoDTO)
        "forma_pagamento_id": check.whole(1, 2**53),
    },
)

# The consent page is on Bling's site, not on the API's host. A store whose
# api_base_url points elsewhere (an emulator, a proxy) has it under that URL.
AUTHORIZE_URL = "https://www.bling.com.br/Api/v3/oauth/authorize"
AUTHORIZE_PATH = "/oauth/authorize"
TOKEN_PATH = "/oauth/token"
