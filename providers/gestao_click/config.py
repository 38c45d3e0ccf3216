"""GestãoClick: what the provider is (spec: provider-apis.md §1)."""

from crm_cli import store_settings as check
from crm_cli.providers.base import EntitySpec, ProviderInfo, crud

_HANDLERS = "crm_cli.providers.gestao_click.handlers"

PROVIDER = ProviderInfo(
    name="gestao_click",
    title="GestãoClick",
    default_base_url="https://api.gestaoclick.com/api",
    required_credentials=("access_token", "secret_access_token"),
    client="crm_cli.providers.gestao_click.client:GestaoClickClient",
    # limits are per company; the access token is the best handle we have on it
    quota_credential="access_token",
    rate_per_second=3,
    daily_limit=30_000,
    entities={
        "cliente": EntitySpec("cliente", "clientes", f"{_HANDLERS}.cliente", crud("/clientes")),
        "produto": EntitySpec("produto", "produtos", f"{_HANDLERS}.produto", crud("/produtos")),
        "venda": EntitySpec("venda", "vendas", f"{_HANDLERS}.venda", crud("/vendas")),
    },
    unsupported={"atividade": "GestãoClick's API has no activities resource"},
    emulator="crm_cli.providers.gestao_click.emulator:GestaoClickEmulator",
    settings={
        "situacoes_venda": check.id_map,  # ERP situacao_venda_id -> situacao_id
        "forma_pagamento_id": check.crm_id,  # the sales' payment form (ids are text)
        "price_type_id": check.crm_id,  # valores[].tipo_id of the ERP's price
    },
)
