"""Pipedrive: what the provider is (spec: provider-apis.md §2). API v2 throughout.

Clients (PF and PJ alike) become persons: a PJ client's company name is the
person's name; organizations are not created (their ids are per account and a
person stands on its own in Pipedrive).
"""

from crm_cli import store_settings as check
from crm_cli.providers.base import EntitySpec, ProviderInfo, crud

_HANDLERS = "crm_cli.providers.pipedrive.handlers"

PROVIDER = ProviderInfo(
    name="pipedrive",
    title="Pipedrive",
    default_base_url="https://api.pipedrive.com",  # or https://<company_domain>.pipedrive.com
    required_credentials=("api_token",),
    client="crm_cli.providers.pipedrive.client:PipedriveClient",
    quota_credential="api_token",
    # the burst limit of the smallest plan (api_token, Lite: 20 requests per 2 s);
    # larger plans set rate_limit_per_second in configuracoes
    rate_per_second=10,
    daily_limit=None,  # a token budget, read from the answers' headers instead
    entities={
        "cliente": EntitySpec(
            "cliente", "persons", f"{_HANDLERS}.cliente", crud("/api/v2/persons", update="PATCH")
        ),
        "produto": EntitySpec(
            "produto", "products", f"{_HANDLERS}.produto", crud("/api/v2/products", update="PATCH")
        ),
        "venda": EntitySpec(
            "venda", "deals", f"{_HANDLERS}.venda", crud("/api/v2/deals", update="PATCH")
        ),
        "atividade": EntitySpec(
            "atividade",
            "activities",
            f"{_HANDLERS}.atividade",
            crud("/api/v2/activities", update="PATCH"),
        ),
    },
    emulator="crm_cli.providers.pipedrive.emulator:PipedriveEmulator",
    record_time_zone="UTC",  # add_time/update_time: UTC (RFC 3339 in API v2)
    settings={
        "company_domain": check.text,  # https://<company_domain>.pipedrive.com
        "document_field": check.text,  # the person field holding CPF/CNPJ
        "freight_product_id": check.whole(1, 2**53),  # the product of freight lines
    },
)

# where each resource's search endpoint looks (persons by e-mail, products by code,
# deals by title); activities have none
SEARCH = {
    "cliente": "/api/v2/persons/search",
    "produto": "/api/v2/products/search",
    "venda": "/api/v2/deals/search",
}
