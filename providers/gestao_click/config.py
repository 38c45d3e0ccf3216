"""GestãoClick: what the provider is (spec: provider-apis.md §1)."""

from providers.base import ProviderInfo

PROVIDER = ProviderInfo(
    name="gestao_click",
    title="GestãoClick",
    default_base_url="https://api.gestaoclick.com",
    required_credentials=("access_token", "secret_access_token"),
)
