"""Configuration: where it is found, defaults, and every way it can be wrong."""

from __future__ import annotations

import pytest

from crm_cli.errors import ConfigError
from crm_cli.settings import MAX_BATCH_SIZE, default_database_path, load_settings


def write(tmp_path, text: str):
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


def test_defaults_without_any_file_use_the_embedded_sqlite(tmp_path):
    settings = load_settings()

    assert settings.source == "built-in defaults"
    assert settings.database_url == f"sqlite:///{default_database_path()}"
    assert str(default_database_path()).startswith(str(tmp_path / "xdg-data"))
    assert settings.sync.batch_size == MAX_BATCH_SIZE == 100
    assert settings.sync.max_attempts == 3
    assert (settings.cleanup.queue_days, settings.cleanup.log_days) == (7, 30)
    assert settings.credentials_key_env == "JWT_SECRET"
    assert settings.entity("cliente").table == "clientes"
    assert settings.entity("cliente").updated_at == "modificado_em"
    assert settings.entity("produto").deleted_at == "deleted_at"
    assert settings.entity("venda").table == "vendas"
    assert settings.entity("atividade").table == "atividades"


def test_file_is_found_by_flag_then_env_then_default(tmp_path, monkeypatch):
    named = write(tmp_path, "database:\n  url: sqlite:///named.db\n")
    env_file = tmp_path / "env.yaml"
    env_file.write_text("database:\n  url: sqlite:///env.db\n")
    default = tmp_path / "xdg-config" / "crm-cli" / "config.yaml"
    default.parent.mkdir(parents=True)
    default.write_text("database:\n  url: sqlite:///default.db\n")

    assert load_settings().database_url == "sqlite:///default.db"
    monkeypatch.setenv("CRM_CONFIG", str(env_file))
    assert load_settings().database_url == "sqlite:///env.db"
    assert load_settings(named).database_url == "sqlite:///named.db"


def test_env_database_url_overrides_the_file(tmp_path, monkeypatch):
    path = write(tmp_path, "database:\n  url: sqlite:///file.db\n")
    monkeypatch.setenv("CRM_DATABASE_URL", "mysql+pymysql://u@h/db")

    assert load_settings(path).database_url == "mysql+pymysql://u@h/db"


def test_entities_merge_over_defaults_and_new_ones_are_allowed(tmp_path):
    path = write(
        tmp_path,
        "entities:\n"
        "  cliente:\n    store_column: loja_id\n    conflict: mesclar\n"
        "  orcamento:\n    table: orcamentos\n    updated_at: null\n",
    )
    settings = load_settings(path)

    cliente = settings.entity("cliente")
    assert (cliente.table, cliente.store_column, cliente.conflict) == (
        "clientes",
        "loja_id",
        "mesclar",
    )
    assert settings.entity("orcamento").table == "orcamentos"
    assert settings.entity("orcamento").primary_key == "id"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sync: [1, 2", "invalid YAML at line 1"),
        ("- a\n- b\n", "the top level must be a mapping"),
        ("databse:\n  url: x\n", "databse: unknown key"),
        ("sync:\n  batchsize: 10\n", "sync.batchsize: unknown key"),
        ("sync:\n  batch_size: 500\n", "sync.batch_size: must be at most 100 (got 500)"),
        ("sync:\n  batch_size: 0\n", "sync.batch_size: must be at least 1"),
        ("sync:\n  batch_size: ten\n", "sync.batch_size: must be a whole number"),
        ("sync:\n  max_attempts: true\n", "sync.max_attempts: must be a whole number"),
        ("sync:\n  backoff_seconds: 60\n", "sync.backoff_seconds: must be a non-empty list"),
        ("sync:\n  backoff_seconds: [60, -1]\n", "sync.backoff_seconds: must be a non-empty"),
        (
            "sync:\n  lease_seconds: 30\n  time_budget_seconds: 50\n",
            "sync.lease_seconds: must be longer than sync.time_budget_seconds",
        ),
        ("sync: 5\n", "sync: must be a mapping"),
        ("cleanup:\n  queue_days: 0\n", "cleanup.queue_days: must be at least 1"),
        ("database:\n  url: 5\n", "database.url: must be a non-empty string"),
        ("credentials:\n  key_env: 'MY SECRET'\n", "credentials.key_env: 'MY SECRET' is not"),
        ("credentials:\n  allow_fallback_key: yes please\n", "must be true or false"),
        (
            "entities:\n  cliente:\n    table: 'clientes; DROP TABLE x'\n",
            "entities.cliente.table: 'clientes; DROP TABLE x' is not a plain SQL identifier",
        ),
        ("entities:\n  cliente:\n    tabel: c\n", "entities.cliente.tabel: unknown key"),
        ("entities:\n  orcamento:\n    updated_at: x\n", "entities.orcamento.table: is required"),
        ("entities:\n  cliente:\n    primary_key: null\n", "primary_key: is required"),
        ("entities:\n  cliente:\n    conflict: random\n", "must be one of crm_vence"),
        ("entities:\n  Cliente X:\n    table: c\n", "entity names are lower-case words"),
        ("entities: [cliente]\n", "entities: must be a mapping"),
        ("sync: " + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply"),
        ("sync:\n  batch_size: 10\n  batch_size: 20\n", "key 'batch_size' appears twice"),
    ],
)
def test_every_invalid_config_names_file_key_and_problem(tmp_path, text, message):
    path = write(tmp_path, text)

    with pytest.raises(ConfigError) as caught:
        load_settings(path)

    assert str(path) in caught.value.message
    assert message in caught.value.message
    assert "\n" not in caught.value.message
    assert caught.value.exit_code == 2


def test_named_file_that_does_not_exist_is_an_error(tmp_path, monkeypatch):
    with pytest.raises(ConfigError, match="from --config"):
        load_settings(tmp_path / "missing.yaml")
    monkeypatch.setenv("CRM_CONFIG", str(tmp_path / "nope.yaml"))
    with pytest.raises(ConfigError, match=r"from \$CRM_CONFIG"):
        load_settings()


def test_unconfigured_entity_names_the_fix():
    with pytest.raises(ConfigError, match="entity 'pedido' is not configured"):
        load_settings().entity("pedido")


def test_example_config_is_valid_and_complete():
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / "config.example.yaml"
    settings = load_settings(example)

    text = example.read_text()
    for key in (
        "url:",
        "key_env:",
        "allow_fallback_key:",
        "batch_size:",
        "max_attempts:",
        "lease_seconds:",
        "time_budget_seconds:",
        "backoff_seconds:",
        "queue_days:",
        "log_days:",
        "table:",
        "primary_key:",
        "external_id:",
        "updated_at:",
        "deleted_at:",
        "store_column:",
        "conflict:",
    ):
        assert key in text, f"config.example.yaml does not document {key}"
    assert settings.entity("cliente").table == "clientes"


def test_yaml_merge_keys_are_taken_and_their_keys_may_be_overridden(tmp_path):
    path = write(
        tmp_path,
        "entities:\n"
        "  cliente: &shared\n    table: clientes\n    conflict: mesclar\n"
        "  produto:\n    <<: *shared\n    table: produtos\n",
    )

    produto = load_settings(path).entity("produto")

    assert (produto.table, produto.conflict) == ("produtos", "mesclar")
