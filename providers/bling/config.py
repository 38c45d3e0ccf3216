"""Bling API v3: what the provider is (spec: provider-apis.md §3)."""

from providers.base import ProviderInfo

PROVIDER = ProviderInfo(
    name="bling",
    title="Bling",
    default_base_url="https://api.bling.com.br/Api/v3",
    required_credentials=("client_id", "client_secret", "refresh_token"),
)
