"""``crm-cli config``: stores configured from a shell, readable by PHP and back, no leaks."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from tests.integration.support import plain
from tests.php_vectors import VECTORS, openssl_decrypt

SECRET = "s3cr3t-jwt-for-tests"
GC_CREDS = {"access_token": "gc-access-token-0001", "secret_access_token": "gc-secret-token-0001"}


@pytest.fixture
def migrated_cli(cli, monkeypatch):
    monkeypatch.setenv("JWT_SECRET", SECRET)
    assert cli("migrate").exit_code == 0
    return cli


def rows(database) -> list[dict]:
    with database.connect() as conn:
        return [
            dict(r._mapping)
            for r in conn.execute(sa.text("SELECT * FROM crm_integracoes ORDER BY id"))
        ]


def set_store(cli, loja=3, provider="gestao_click", creds=None, *extra):
    return cli(
        "config",
        "set",
        "--loja",
        str(loja),
        "--provider",
        provider,
        "--credentials-file",
        "-",
        *extra,
        input=json.dumps(creds if creds is not None else GC_CREDS),
    )


def assert_no_secret(result, creds=GC_CREDS):
    for value in creds.values():
        assert str(value) not in result.stdout
        assert str(value) not in result.stderr


def test_set_stores_a_blob_the_php_application_can_decrypt(migrated_cli, database):
    result = set_store(
        migrated_cli, 3, "gestao_click", GC_CREDS, "--setting", "api_base_url=http://127.0.0.1:8080"
    )

    assert result.exit_code == 0, result.stderr
    assert "Store 3: gestao_click configured, active." in result.stdout
    assert "access_token=gc-a…" in result.stdout
    assert_no_secret(result)
    [row] = rows(database)
    assert (row["id_loja"], row["provider"], row["ativo"]) == (3, "gestao_click", 1)
    assert json.loads(openssl_decrypt(row["credenciais"], SECRET)) == GC_CREDS
    configuracoes = row["configuracoes"]
    if isinstance(configuracoes, str):
        configuracoes = json.loads(configuracoes)
    assert configuracoes == {"api_base_url": "http://127.0.0.1:8080"}
    assert row["atualizado_em"] is not None


def test_credentials_file_on_disk(migrated_cli, database, tmp_path):
    path = tmp_path / "creds.json"
    path.write_text(json.dumps({"api_token": "pd-token-abcdef"}))

    result = migrated_cli(
        "config", "set", "--loja", "9", "--provider", "pipedrive", "--credentials-file", str(path)
    )

    assert result.exit_code == 0, result.stderr
    assert json.loads(openssl_decrypt(rows(database)[0]["credenciais"], SECRET)) == {
        "api_token": "pd-token-abcdef"
    }


def test_rows_made_by_php_are_read_and_shown_masked(migrated_cli, database, monkeypatch):
    vector = next(v for v in VECTORS if v["name"] == "bling_oauth")
    monkeypatch.setenv("JWT_SECRET", vector["secret"])
    with database.begin() as conn:  # what the PHP application's salvarConfiguracao writes
        conn.execute(
            sa.text(
                "INSERT INTO crm_integracoes (id_loja, provider, credenciais, configuracoes) "
                "VALUES (12, 'bling', :blob, '{\"x\": 1}')"
            ),
            {"blob": vector["credenciais_blob"]},
        )

    result = migrated_cli("config", "show", "--loja", "12", "--json")

    assert result.exit_code == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["provider"] == "bling"
    assert shown["ativo"] is True
    assert shown["configuracoes"] == {"x": 1}
    assert shown["credenciais"] == {
        "client_id": "…",
        "client_secret": "csec…",
        "refresh_token": "…",
        "access_token": "…",
        "expires_at": "1767…",
    }


def test_python_api_returns_decrypted_credentials(migrated_cli, database):
    from crm_cli.credentials import CredentialCipher
    from crm_cli.integrations import Integracoes

    set_store(migrated_cli)
    api = Integracoes(database, CredentialCipher(SECRET, "JWT_SECRET"))

    config = api.obter_configuracao(3)
    assert config.credenciais == GC_CREDS
    api.desativar_integracao(3)
    assert api.obter_configuracao(3).ativo is False


def test_show_list_enable_disable(migrated_cli):
    set_store(migrated_cli, 3)
    set_store(migrated_cli, 4, "pipedrive", {"api_token": "pd-0123456789"}, "--inactive")

    listed = json.loads(migrated_cli("config", "list", "--json").stdout)
    assert [(s["id_loja"], s["provider"], s["ativo"]) for s in listed] == [
        (3, "gestao_click", True),
        (4, "pipedrive", False),
    ]

    assert migrated_cli("config", "enable", "--loja", "4").exit_code == 0
    assert migrated_cli("config", "disable", "--loja", "3").exit_code == 0
    listed = json.loads(migrated_cli("config", "list", "--json").stdout)
    assert [s["ativo"] for s in listed] == [False, True]

    plain = migrated_cli("config", "show", "--loja", "3")
    assert "ativo: no" in plain.stdout
    assert "credenciais.access_token: gc-a…" in plain.stdout
    assert_no_secret(plain)


def test_set_again_updates_merges_settings_and_keeps_credentials(migrated_cli, database):
    set_store(migrated_cli, 3, "gestao_click", GC_CREDS, "--setting", "a=1", "--setting", "b=x")
    first_id = rows(database)[0]["id"]

    # no credentials file and no terminal: the stored credentials are kept
    result = migrated_cli(
        "config",
        "set",
        "--loja",
        "3",
        "--provider",
        "gestao_click",
        "--setting",
        "b=true",
        "--setting",
        'c={"n": [1, 2]}',
        "--unset-setting",
        "a",
    )

    assert result.exit_code == 0, result.stderr
    [row] = rows(database)
    assert row["id"] == first_id
    settings = row["configuracoes"]
    settings = json.loads(settings) if isinstance(settings, str) else settings
    assert settings == {"b": True, "c": {"n": [1, 2]}}
    assert json.loads(openssl_decrypt(row["credenciais"], SECRET)) == GC_CREDS


def test_delete_is_soft_and_set_revives_the_row(migrated_cli, database):
    set_store(migrated_cli, 3)
    assert migrated_cli("config", "delete", "--loja", "3").exit_code == 0
    assert rows(database)[0]["deletado_em"] is not None
    assert json.loads(migrated_cli("config", "list", "--json").stdout) == []
    shown = migrated_cli("config", "show", "--loja", "3")
    assert shown.exit_code == 1
    assert "was deleted on" in shown.stderr

    revived = set_store(migrated_cli, 3, "pipedrive", {"api_token": "pd-new-token-123"})

    assert revived.exit_code == 0, revived.stderr
    [row] = rows(database)
    assert (row["provider"], row["deletado_em"]) == ("pipedrive", None)


@pytest.mark.parametrize(
    ("args", "stdin", "code", "message"),
    [
        (
            ["--loja", "3", "--provider", "hubspot", "--credentials-file", "-"],
            "{}",
            2,
            "unknown provider 'hubspot' (known providers: bling, gestao_click, pipedrive)",
        ),
        (
            ["--loja", "3", "--provider", "gestao_click", "--credentials-file", "-"],
            '{"access_token": "abcdefgh"}',
            2,
            "lack the required key(s): secret_access_token",
        ),
        (
            ["--loja", "3", "--provider", "bling", "--credentials-file", "-"],
            '{"client_id": "a", "client_secret": "", "refresh_token": "r"}',
            2,
            "lack the required key(s): client_secret",
        ),
        (
            ["--loja", "3", "--provider", "pipedrive", "--credentials-file", "/nonexistent.json"],
            None,
            2,
            "credentials file /nonexistent.json does not exist",
        ),
        (
            ["--loja", "3", "--provider", "pipedrive", "--credentials-file", "-"],
            '{"api_token": "pd-secret-token", ',
            2,
            "stdin is not valid JSON",
        ),
        (
            ["--loja", "3", "--provider", "pipedrive", "--credentials-file", "-"],
            '["pd-secret-token"]',
            2,
            "stdin must hold a JSON object",
        ),
        (["--loja", "0", "--provider", "pipedrive"], None, 2, "Invalid value for '--loja'"),
        (["--loja", "abc", "--provider", "pipedrive"], None, 2, "Invalid value for '--loja'"),
        (
            ["--loja", "3", "--provider", "pipedrive", "--setting", "novalue"],
            None,
            2,
            "--setting 'novalue' is not KEY=VALUE",
        ),
        (
            ["--loja", "3", "--provider", "pipedrive", "--setting", "=x"],
            None,
            2,
            "is not KEY=VALUE",
        ),
        (["--loja", "3", "--provider", "pipedrive"], None, 2, "store 3 has no stored credentials"),
    ],
)
def test_bad_input_to_set_is_one_line_and_changes_nothing(
    migrated_cli, database, args, stdin, code, message
):
    set_store(migrated_cli, 5)  # an unrelated row that must stay as it is
    before = rows(database)

    result = migrated_cli("config", "set", *args, input=stdin)

    assert result.exit_code == code
    assert message in result.stderr
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr
    assert "pd-secret-token" not in result.stderr
    assert rows(database) == before


@pytest.mark.parametrize("command", ["show", "disable", "enable", "delete"])
def test_store_not_found(migrated_cli, database, command):
    result = migrated_cli("config", command, "--loja", "42")

    assert result.exit_code == 1
    assert plain(result.stderr) == (
        "crm-cli: error: store 42 has no CRM configuration (see 'crm-cli config list'; "
        "create one with 'crm-cli config set --loja 42 …')\n"
    )
    assert rows(database) == []


def test_wrong_secret_is_one_line_exit_1_and_nothing_changes(migrated_cli, database):
    set_store(migrated_cli, 3)
    before = rows(database)

    shown = migrated_cli("config", "show", "--loja", "3", env={"JWT_SECRET": "wrong"})
    kept = migrated_cli(
        "config", "set", "--loja", "3", "--provider", "gestao_click", env={"JWT_SECRET": "wrong"}
    )

    for result in (shown, kept):
        assert result.exit_code == 1
        assert plain(result.stderr).startswith(
            "crm-cli: error: the credentials for store 3 cannot be decrypted"
        )
    assert rows(database) == before


def test_no_secret_set_refuses_to_write(migrated_cli, database, monkeypatch):
    monkeypatch.delenv("JWT_SECRET")

    result = set_store(migrated_cli, 3)

    assert result.exit_code == 2
    assert "refusing to encrypt credentials with the well-known fallback key" in result.stderr
    assert rows(database) == []


def test_missing_tables_point_to_migrate(cli, monkeypatch):
    monkeypatch.setenv("JWT_SECRET", SECRET)

    result = cli("config", "list")

    assert result.exit_code == 1
    assert "run 'crm-cli migrate' first" in result.stderr


def test_a_setting_of_an_existing_store_needs_no_provider(cli, shop):
    changed = cli("config", "set", "--loja", "1", "--setting", "timeout_seconds=20")
    new = cli("config", "set", "--loja", "9", "--setting", "timeout_seconds=20")

    assert changed.exit_code == 0, changed.stderr
    assert "gestao_click configured" in changed.stdout and "timeout_seconds" in changed.stdout
    shown = cli("config", "show", "--loja", "1").stdout
    assert "api_base_url" in shown and "timeout_seconds" in shown  # merged, not replaced
    assert new.exit_code == 2 and "store 9 has no configuration yet: give --provider" in new.stderr
