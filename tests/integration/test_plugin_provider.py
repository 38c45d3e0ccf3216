"""A provider (and an entity) added from another installed package, touching no file here."""

from __future__ import annotations

import sys
import textwrap

import pytest

from crm_cli.providers.registry import known_providers
from crm_cli.services.service_crm import ServiceCrm
from crm_cli.settings import load_settings
from tests.integration.support import configure_store

FILES = {
    "acme_crm/__init__.py": "",
    "acme_crm/config.py": """
        from {contract}.base import EntitySpec, ProviderInfo, crud

        PROVIDER = ProviderInfo(
            name="acme_crm",
            title="Acme CRM",
            default_base_url="https://acme.invalid",
            required_credentials=("access_token", "secret_access_token"),
            client="acme_crm.client:AcmeClient",
            quota_credential="access_token",
            rate_per_second=10,
            entities={
                "orcamento": EntitySpec("orcamento", "orcamentos", "acme_crm.orcamento",
                                        crud("/orcamentos")),
            },
        )
    """,
    # Acme speaks GestãoClick's dialect, so the test can use that emulator
    "acme_crm/client.py": """
        from {contract}.gestao_click.client import GestaoClickClient

        class AcmeClient(GestaoClickClient):
            pass
    """,
    "acme_crm/orcamento.py": """
        def to_external(row):
            return {"tipo": "produto", "codigo": str(row["numero"]), "cliente_id": "1",
                    "situacao_id": "1", "data": "2026-11-30"}

        def to_internal(record):
            return {"numero": int(record["codigo"])}

        def lookup_params(row):
            return {"codigo": str(row["numero"])}

        def matches(record, row):
            return record.get("codigo") == str(row["numero"])
    """,
    "acme_crm-0.1.dist-info/METADATA": "Metadata-Version: 2.1\nName: acme-crm\nVersion: 0.1\n",
    "acme_crm-0.1.dist-info/entry_points.txt": (
        "[crm_cli.providers]\nacme_crm = acme_crm.config:PROVIDER\n"
    ),
}


# The documented contract, and the path plug-ins written for 0.1 use (kept until 0.3).
CONTRACTS = ["crm_cli.providers", "providers"]


@pytest.fixture(params=CONTRACTS)
def acme_installed(request, tmp_path, monkeypatch):
    for name, text in FILES.items():
        path = tmp_path / "site" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).replace("{contract}", request.param))
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    known_providers.cache_clear()
    yield
    known_providers.cache_clear()
    for name in [m for m in sys.modules if m == "acme_crm" or m.startswith("acme_crm.")]:
        del sys.modules[name]  # the next parameter's plug-in is another copy


def test_plugin_provider_is_configured_and_used(acme_installed, cli, migrated, gc_emulator):
    assert "acme_crm" in known_providers()
    configure_store(cli, 8, "acme_crm", gc_emulator.credentials, api_base_url=gc_emulator.url)

    created = ServiceCrm(migrated, load_settings()).criar(8, "orcamento", {"numero": 42})

    assert created.interno == {"numero": 42}
    assert gc_emulator.records["orcamentos"][created.external_id]["codigo"] == "42"
    listed = cli("config", "list", "--json")
    assert '"provider": "acme_crm"' in listed.stdout
