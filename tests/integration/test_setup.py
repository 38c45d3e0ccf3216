"""Set-up that works the first time: where the configuration and the secret are found,
and what a command says before it acts on the embedded SQLite default."""

from __future__ import annotations

import os

import pytest

from crm_cli.demo import sample_erp
from tests.integration.support import SECRET, php_enqueue


@pytest.fixture
def no_user_config(tmp_path, monkeypatch):
    """A home without ~/.config/crm-cli, no $CRM_CONFIG; the system config in tmp."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home-config"))
    monkeypatch.delenv("CRM_CONFIG", raising=False)
    system = tmp_path / "etc" / "config.yaml"
    system.parent.mkdir()
    monkeypatch.setenv("CRM_SYSTEM_CONFIG", str(system))
    return system


def test_the_system_config_is_found_when_none_is_named(bare_cli, no_user_config, db_url):
    no_user_config.write_text(f"database:\n  url: {db_url}\n")

    result = bare_cli("migrate")

    assert result.exit_code == 0, result.stderr
    assert f"(configuration: {no_user_config})" in result.stdout
    assert "embedded SQLite" not in result.stderr


def test_the_users_config_comes_before_the_systems(bare_cli, no_user_config, tmp_path, db_url):
    no_user_config.write_text("database:\n  url: sqlite:////nonexistent/never.sqlite3\n")
    user = tmp_path / "home-config" / "crm-cli" / "config.yaml"
    user.parent.mkdir(parents=True)
    user.write_text(f"database:\n  url: {db_url}\n")

    result = bare_cli("migrate")

    assert result.exit_code == 0, result.stderr
    assert f"(configuration: {user})" in result.stdout


def test_the_embedded_default_is_said_before_acting(
    bare_cli, no_user_config, tmp_path, monkeypatch
):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    no_user_config.write_text("sync:\n  batch_size: 50\n")  # a system config without a url

    result = bare_cli("migrate")

    assert result.exit_code == 0, result.stderr
    assert "using the embedded SQLite database" in result.stderr
    assert result.stdout.startswith("Migrating sqlite:///")
    assert str(tmp_path / "data") in result.stdout


def secret_config(tmp_path, **credentials) -> str:
    lines = "".join(f"  {key}: {value}\n" for key, value in credentials.items())
    config = tmp_path / "secret.yaml"
    config.write_text(f"credentials:\n{lines}")
    return str(config)


@pytest.fixture
def synced_store(cli, shop, gc_emulator, monkeypatch):
    """Store 1 configured with the suite's secret, one client queued; then no
    $JWT_SECRET: the secret must come from elsewhere."""
    [cid] = sample_erp.add_clientes(shop, 1)
    php_enqueue(shop, [cid])
    monkeypatch.delenv("JWT_SECRET", raising=False)
    return shop


def test_the_secret_from_a_key_file(cli, synced_store, gc_emulator, tmp_path):
    key = tmp_path / "jwt.key"
    key.write_text(SECRET + "\n")
    key.chmod(0o600)

    result = cli("--config", secret_config(tmp_path, key_file=key), "sync")

    assert result.exit_code == 0, result.stderr
    assert gc_emulator.stats()["creates"] == {"clientes": 1}


def test_a_key_file_others_can_read_is_refused(cli, synced_store, tmp_path):
    key = tmp_path / "jwt.key"
    key.write_text(SECRET)
    key.chmod(0o644)

    result = cli("--config", secret_config(tmp_path, key_file=key), "test-connection", "--all")

    assert result.exit_code == 2
    assert "can be read by others" in result.stderr and "chmod 600" in result.stderr
    assert SECRET not in result.stderr + result.stdout


def test_the_secret_from_the_php_applications_env_file(cli, synced_store, gc_emulator, tmp_path):
    env = tmp_path / ".env"
    env.write_text(
        "# Ecletech\nAPP_ENV=production\nDB_HOST=localhost\n"
        f'export JWT_SECRET="{SECRET}"\nOTHER=x # comment\n'
    )

    result = cli("--config", secret_config(tmp_path, env_file=env), "sync")

    assert result.exit_code == 0, result.stderr
    assert gc_emulator.stats()["creates"] == {"clientes": 1}


def test_an_env_file_without_the_secret_names_it(cli, synced_store, tmp_path):
    env = tmp_path / ".env"
    env.write_text("APP_ENV=production\n")

    result = cli("--config", secret_config(tmp_path, env_file=env), "test-connection", "--all")

    assert result.exit_code != 0
    assert "JWT_SECRET" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_environment_wins_over_the_files(cli, synced_store, gc_emulator, tmp_path):
    missing = tmp_path / "absent.key"

    result = cli(
        "--config", secret_config(tmp_path, key_file=missing), "sync", env={"JWT_SECRET": SECRET}
    )

    assert result.exit_code == 0, result.stderr
    assert os.environ.get("JWT_SECRET") is None
