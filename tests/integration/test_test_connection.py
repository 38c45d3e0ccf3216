"""``crm-cli test-connection``: one line per store, each cause named, exit 0 only if all OK."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from crm_cli.credentials import encrypt
from tests.integration.support import configure_store

CREDS = {"access_token": "demo-access-token", "secret_access_token": "demo-secret-token"}


def test_ok_store_costs_one_request(cli, gc_store, gc_emulator):
    result = cli("test-connection", "--loja", "1")

    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("OK gestao_click ")
    assert " ms — loja 1" in result.stdout
    assert gc_emulator.stats()["requests"] == 1
    assert "demo-secret-token" not in result.stdout


@pytest.mark.parametrize(
    ("fault", "cause"),
    [
        ("500", "FAIL gestao_click: server error (500)"),
        ("timeout", "FAIL gestao_click: timeout"),
        ("bad_json", "FAIL gestao_click: unexpected answer"),
    ],
)
def test_provider_faults(cli, gc_store, gc_emulator, fault, cause):
    gc_emulator.add_fault(fault)

    result = cli("test-connection", "--loja", "1")

    assert result.exit_code == 1
    assert result.stdout.startswith(cause)


def test_rate_limited_names_the_wait(cli, gc_store, gc_emulator):
    gc_emulator.add_fault("429", retry_after=30)

    result = cli("test-connection", "--loja", "1")

    assert result.exit_code == 1
    assert result.stdout.startswith("FAIL gestao_click: rate limited (retry after 30 s)")


def test_each_store_level_cause(cli, migrated, gc_emulator):
    configure_store(cli, 1, "gestao_click", CREDS, api_base_url=gc_emulator.url)
    configure_store(
        cli,
        2,
        "gestao_click",
        {**CREDS, "access_token": "revoked-token"},
        api_base_url=gc_emulator.url,
    )
    configure_store(cli, 3, "gestao_click", CREDS, api_base_url="http://127.0.0.1:1")
    configure_store(
        cli, 4, "gestao_click", CREDS, api_base_url=gc_emulator.url.replace("http:", "https:")
    )
    configure_store(cli, 5, "gestao_click", CREDS, api_base_url=gc_emulator.url)
    assert cli("config", "disable", "--loja", "5").exit_code == 0
    with migrated.begin() as conn:  # a row written with another secret
        conn.execute(
            sa.text(
                "INSERT INTO crm_integracoes (id_loja, provider, credenciais) "
                "VALUES (6, 'gestao_click', :blob)"
            ),
            {"blob": encrypt(CREDS, "another-secret")},
        )

    every = cli("test-connection", "--all")
    lines = every.stdout.splitlines()

    assert every.exit_code == 1
    assert lines[0].startswith("OK gestao_click ")
    assert lines[1].startswith("FAIL gestao_click: credentials rejected — loja 2")
    assert lines[2].startswith("FAIL gestao_click: connection refused — loja 3")
    assert lines[3].startswith("FAIL gestao_click: TLS error — loja 4")
    assert lines[4] == "SKIP gestao_click: store inactive — loja 5"
    assert lines[5].startswith("FAIL gestao_click: cannot decrypt credentials — loja 6")
    assert len(lines) == 6
    inactive = cli("test-connection", "--loja", "5")
    assert (inactive.exit_code, inactive.stdout) == (
        1,
        "FAIL gestao_click: store inactive — loja 5: store 5's CRM integration is disabled "
        "(enable it with 'crm-cli config enable --loja 5')\n",
    )
    missing = cli("test-connection", "--loja", "9")
    assert missing.exit_code == 1
    assert missing.stdout.startswith("FAIL -: store not configured — loja 9: store 9 has no CRM")


def test_needs_exactly_one_of_loja_or_all(cli, migrated):
    for args in ([], ["--loja", "1", "--all"]):
        result = cli("test-connection", *args)
        assert result.exit_code == 2
        assert "give either --loja N or --all" in result.stderr
