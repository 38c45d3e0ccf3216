"""Pipedrive: what the provider is (spec: provider-apis.md §2)."""

from providers.base import ProviderInfo

PROVIDER = ProviderInfo(
    name="pipedrive",
    title="Pipedrive",
    default_base_url="https://api.pipedrive.com",
    required_credentials=("api_token",),
)
