"""What every provider declares about itself (the contract's static half)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ProviderInfo:
    name: str  # snake_case, as stored in crm_integracoes.provider
    title: str  # as people write it
    default_base_url: str  # overridable per store by configuracoes.api_base_url
    required_credentials: tuple[str, ...]  # keys crm_integracoes.credenciais must hold
