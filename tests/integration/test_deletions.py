"""Deletions by ``entities.<e>.on_delete``, both ways, on each provider: an ERP soft
delete reaches the CRM as the policy says; a record the CRM deleted marks the ERP row
(never removes it)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from crm_cli.demo import sample_erp
from tests.integration.support import php_enqueue, queue_rows

# (shop fixture, emulator fixture, store, the CRM's resource for clients)
PROVIDERS = [
    ("shop", "gc_emulator", 1, "clientes"),
    ("pd_shop", "pd_emulator", 2, "persons"),
    ("bling_shop", "bling_emulator", 3, "contatos"),
]


@pytest.fixture(params=PROVIDERS, ids=lambda p: p[1].split("_")[0])
def sent(request, tmp_path, monkeypatch):
    """A client sent to the provider's CRM; ``policy(p)`` sets entities.cliente.on_delete."""
    shop_name, emulator_name, loja, resource = request.param
    database = request.getfixturevalue(shop_name)
    emulator = request.getfixturevalue(emulator_name)
    cli = request.getfixturevalue("cli")
    [row_id] = sample_erp.add_clientes(database, 1)
    php_enqueue(database, [row_id], loja=loja)
    assert cli("sync").exit_code == 0
    with database.connect() as conn:
        crm_id = conn.execute(
            sa.text("SELECT external_id FROM clientes WHERE id = :i"), {"i": row_id}
        ).scalar()

    def policy(name: str) -> None:
        config = tmp_path / "on_delete.yaml"
        config.write_text(f"entities:\n  cliente:\n    on_delete: {name}\n")
        monkeypatch.setenv("CRM_CONFIG", str(config))

    return database, emulator, loja, resource, row_id, str(crm_id), policy


def soft_delete(database, row_id) -> None:
    with database.begin() as conn:
        conn.execute(
            sa.text("UPDATE clientes SET deletado_em = '2026-12-01 10:00:00' WHERE id = :i"),
            {"i": row_id},
        )


def last_log(database) -> tuple[str, str]:
    with database.connect() as conn:
        return tuple(
            conn.execute(
                sa.text("SELECT status, mensagem FROM crm_sync_log ORDER BY id DESC LIMIT 1")
            ).one()
        )


def erp_row(database, row_id) -> tuple:
    with database.connect() as conn:
        return tuple(
            conn.execute(
                sa.text("SELECT ativo, deletado_em FROM clientes WHERE id = :i"), {"i": row_id}
            ).one()
        )


def test_ignore_sends_nothing_for_an_erp_deletion(cli, sent):
    database, emulator, loja, resource, row_id, crm_id, policy = sent
    policy("ignore")
    soft_delete(database, row_id)
    php_enqueue(database, [row_id], loja=loja)
    before = emulator.stats()["requests"]

    cli("sync")

    assert emulator.stats()["requests"] == before
    assert crm_id in emulator.records[resource]
    assert last_log(database)[1].endswith("the local record is deleted; nothing sent")


def test_delete_deletes_the_crm_record_once(cli, sent):
    database, emulator, loja, resource, row_id, crm_id, policy = sent
    policy("delete")
    soft_delete(database, row_id)
    php_enqueue(database, [row_id], loja=loja)

    preview = cli("sync", "--dry-run")
    assert f"would delete {crm_id} in" in preview.stdout
    cli("sync")
    assert crm_id not in emulator.records[resource]
    assert f"deleted in the CRM (cliente {crm_id}; on_delete: delete)" in last_log(database)[1]
    before = emulator.stats()["requests"]
    php_enqueue(database, [row_id], loja=loja)  # the PHP screen saves the deleted row again
    cli("sync")

    assert emulator.stats()["requests"] == before
    assert last_log(database)[1].endswith("deleted in the CRM already; nothing sent")


def test_deactivate_uses_the_crms_own_flag(cli, sent):
    database, emulator, loja, resource, row_id, crm_id, policy = sent
    policy("deactivate")
    soft_delete(database, row_id)
    php_enqueue(database, [row_id], loja=loja)

    cli("sync")

    record = emulator.records[resource].get(crm_id)
    status, message = last_log(database)
    if resource == "persons":  # a Pipedrive person has no inactive flag nor archive
        assert status == "alerta" and "have no inactive flag or archive" in message
        assert record is not None
    elif resource == "clientes":
        assert record["ativo"] == "0" and status == "sucesso"
    else:
        assert record["situacao"] == "I" and status == "sucesso"


@pytest.mark.parametrize(
    ("name", "expected"),
    [("delete", (1, True)), ("deactivate", (0, False))],
)
def test_a_record_the_crm_deleted_marks_the_erp_row(cli, sent, name, expected):
    database, emulator, loja, resource, row_id, crm_id, policy = sent
    policy(name)
    with emulator.lock:
        del emulator.records[resource][crm_id]  # deleted in the CRM's own screen
    php_enqueue(database, [row_id], loja=loja, direcao="crm_para_ecletech")

    result = cli("sync")

    assert result.exit_code == 0, result.stderr
    ativo, deletado_em = erp_row(database, row_id)
    assert (int(ativo), deletado_em is not None) == expected
    assert queue_rows(database, "status")[-1] == ("completed",)
    assert f"the CRM deleted cliente {crm_id}" in last_log(database)[1]


def test_an_update_of_a_record_the_crm_deleted_marks_the_erp_row(cli, sent):
    database, emulator, loja, resource, row_id, crm_id, policy = sent
    policy("delete")
    with emulator.lock:
        del emulator.records[resource][crm_id]
    with database.begin() as conn:
        conn.execute(sa.text("UPDATE clientes SET nome = 'Outro' WHERE id = :i"), {"i": row_id})
    php_enqueue(database, [row_id], loja=loja)

    cli("sync")

    assert erp_row(database, row_id)[1] is not None  # soft-deleted, never removed
    assert "marked deleted (deletado_em)" in last_log(database)[1]
    assert not emulator.stats()["creates"].get(resource, 0) > 1  # never created again


def test_ignore_keeps_todays_failure_for_a_record_deleted_there(cli, sent):
    database, emulator, loja, resource, row_id, crm_id, policy = sent
    policy("ignore")
    with emulator.lock:
        del emulator.records[resource][crm_id]
    with database.begin() as conn:
        conn.execute(sa.text("UPDATE clientes SET nome = 'Outro' WHERE id = :i"), {"i": row_id})
    php_enqueue(database, [row_id], loja=loja)

    cli("sync")

    assert erp_row(database, row_id) == (1, None)
    assert "on_delete: ignore" in last_log(database)[1]


def test_a_contact_bling_moved_to_its_deleted_records_is_pulled_as_deleted(
    cli, bling_shop, bling_emulator, tmp_path, monkeypatch
):
    config = tmp_path / "on_delete.yaml"
    config.write_text("entities:\n  cliente:\n    on_delete: delete\n")
    monkeypatch.setenv("CRM_CONFIG", str(config))
    contact = bling_emulator.seed("contatos", {"nome": "Ana", "numeroDocumento": "12345678901"})
    cli("import", "--entity", "cliente", "--loja", "3")
    cli("pull", "--loja", "3", "--entity", "cliente")
    bling_emulator.edit("contatos", contact["id"], situacao="E")

    result = cli("pull", "--loja", "3", "--entity", "cliente")

    assert "Pull: 1 applied" in result.stdout
    with bling_shop.connect() as conn:
        nome, deletado_em = conn.execute(sa.text("SELECT nome, deletado_em FROM clientes")).one()
    assert (nome, deletado_em is not None) == ("Ana", True)


def test_deactivate_without_an_active_column_is_a_config_error(cli, tmp_path, monkeypatch):
    config = tmp_path / "bad.yaml"
    config.write_text(
        "entities:\n  atividade:\n    on_delete: deactivate\n    active_column: null\n"
    )
    monkeypatch.setenv("CRM_CONFIG", str(config))

    result = cli("stats")

    assert result.exit_code == 2
    assert "entities.atividade.on_delete" in result.stderr and "active_column" in result.stderr


def test_a_record_listed_then_gone_is_pulled_as_deleted(
    cli, bling_shop, bling_emulator, tmp_path, monkeypatch
):
    config = tmp_path / "on_delete.yaml"
    config.write_text("entities:\n  cliente:\n    on_delete: deactivate\n")
    monkeypatch.setenv("CRM_CONFIG", str(config))
    contact = bling_emulator.seed("contatos", {"nome": "Ana", "numeroDocumento": "12345678901"})
    cli("import", "--entity", "cliente", "--loja", "3")
    cli("pull", "--loja", "3", "--entity", "cliente")
    bling_emulator.edit("contatos", contact["id"], nome="Ana Maria")
    bling_emulator.add_fault("pass")  # the list answers; then the contact's own path: 404
    bling_emulator.add_fault("404")

    result = cli("pull", "--loja", "3", "--entity", "cliente")

    assert "Pull: 1 applied" in result.stdout and "0 errors" in result.stdout
    with bling_shop.connect() as conn:
        nome, ativo = conn.execute(sa.text("SELECT nome, ativo FROM clientes")).one()
    assert (nome, int(ativo)) == ("Ana", 0)  # deactivated, not rewritten, never removed
