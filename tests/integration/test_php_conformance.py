"""The PHP application's own statements, against a database crm-cli migrated and worked on.

Each statement is the PHP application's, as ../shared/spec/php-app-behaviour.md
quotes it (v1/v2, and v3's batch bookkeeping); each assertion is the answer
PHP must get for the state crm-cli left. MySQL date functions (CURDATE,
DATE_SUB) run on MariaDB only; the rest on both backends.
"""

from __future__ import annotations

import importlib
import json

import pytest
import sqlalchemy as sa

from crm_cli.credentials import CredentialCipher, encrypt
from crm_cli.db.clock import app_offset_seconds
from crm_cli.demo import sample_erp as erp_tables
from crm_cli.engine import queue
from crm_cli.engine.queue import admin
from crm_cli.errors import CrmWarning
from tests.integration.support import MARIADB_ONLY, php_enqueue, plain, queue_rows
from tests.integration.test_migrate import run_sql_file

# -- v1/v2: ModelCrmSyncQueue -----------------------------------------------------------

PHP_DEDUPE = (
    "SELECT id FROM crm_sync_queue WHERE entidade = :e AND id_registro = :i AND direcao = :d "
    "AND processado = 0 AND deletado_em IS NULL"
)
PHP_INSERT = (
    "INSERT INTO crm_sync_queue (id_loja, entidade, id_registro, external_id, direcao, "
    "prioridade, criado_em) VALUES (:l, :e, :i, NULL, :d, :p, :c)"
)
PHP_PENDING = (
    "SELECT * FROM crm_sync_queue WHERE processado = 0 AND tentativas < 3 "
    "AND deletado_em IS NULL ORDER BY prioridade DESC, criado_em ASC LIMIT 100"
)
PHP_PENDENTES = "SELECT COUNT(*) FROM crm_sync_queue WHERE processado = 0 AND deletado_em IS NULL"
PHP_PROCESSADOS_HOJE = (
    "SELECT COUNT(*) FROM crm_sync_queue WHERE processado = 1 AND DATE(processado_em) = CURDATE()"
)
PHP_ERROS_24H = (
    "SELECT COUNT(*) FROM crm_sync_queue WHERE erro IS NOT NULL "
    "AND criado_em >= DATE_SUB(NOW(), INTERVAL 24 HOUR)"
)


def php_enfileirar(database, loja: int, record_id: int, prioridade: int = 5) -> int:
    """``enfileirar`` (v1/v2): reuse a row with processado = 0, else insert one."""
    key = {"e": "cliente", "i": record_id, "d": "ecletech_para_crm"}
    with database.begin() as conn:
        found = conn.execute(sa.text(PHP_DEDUPE), key).scalar()
        if found is not None:
            if prioridade > 0:
                conn.execute(
                    sa.text("UPDATE crm_sync_queue SET prioridade = :p WHERE id = :id"),
                    {"p": prioridade, "id": found},
                )
            return found
        result = conn.execute(
            sa.text(PHP_INSERT), {**key, "l": loja, "p": prioridade, "c": "2026-12-02 10:00:00"}
        )
        return result.lastrowid


def scalar(database, sql: str) -> int:
    """A PHP statement's answer, on PHP's session clock: its MySQL functions (NOW(),
    CURDATE()) see the application's own time zone, as its date() values do."""
    with database.connect() as conn:
        if database.dialect.name in ("mysql", "mariadb"):
            hours = app_offset_seconds(database) // 3600
            conn.execute(sa.text(f"SET time_zone = '{hours:+03d}:00'"))
        return conn.execute(sa.text(sql)).scalar()


@pytest.fixture
def worked_on(cli, shop, gc_emulator):
    """Four clients: #1 completed, #2 failed for good, #3 held by a run, #4 pending."""
    ids = erp_tables.add_clientes(shop, 4)
    php_enqueue(shop, ids[:2], prioridade=9)
    cli("sync", "--limit", "1")  # #1 completed
    with shop.begin() as conn:  # #2 will be refused: no name, GestãoClick requires one
        conn.execute(sa.text("UPDATE clientes SET nome = NULL WHERE id = :i"), {"i": ids[1]})
    cli("sync", "--limit", "1")
    php_enqueue(shop, ids[2:3], prioridade=9)
    [held] = queue.claim(shop, owner="another-run", limit=1, lease_seconds=600)
    php_enqueue(shop, ids[3:4])
    assert queue_rows(shop, "id_registro", "status") == [
        (ids[0], "completed"),
        (ids[1], "failed"),
        (ids[2], "processing"),
        (ids[3], "pending"),
    ]
    return shop, ids, held


def test_a_change_php_queues_after_a_failure_is_a_new_item(worked_on):
    shop, ids, _ = worked_on
    new = php_enfileirar(shop, 1, ids[1])
    assert new not in [row[0] for row in queue_rows(shop, "id")[:2]]
    assert queue_rows(shop, "id_registro", "status")[-1] == (ids[1], "pending")


def test_a_change_php_queues_while_crm_cli_sends_is_a_new_item(worked_on):
    shop, ids, held = worked_on
    new = php_enfileirar(shop, 1, ids[2])
    assert new != held.id
    # the change is waiting, pending, for the run after the one sending the old version
    rows = {row[0]: row[1:] for row in queue_rows(shop, "id", "id_registro", "status")}
    assert rows[new] == (ids[2], "pending") and rows[held.id] == (ids[2], "processing")


def test_php_enqueue_still_reuses_a_pending_item(worked_on):
    shop, ids, _ = worked_on
    pending = queue_rows(shop, "id")[3][0]
    assert php_enfileirar(shop, 1, ids[3], prioridade=8) == pending


def test_php_pending_views_see_only_pending_items(worked_on):
    shop, ids, _ = worked_on
    with shop.connect() as conn:
        listed = [r.id_registro for r in conn.execute(sa.text(PHP_PENDING))]
    assert listed == [ids[3]]  # buscarPendentes: neither the failed nor the one in flight
    assert scalar(shop, PHP_PENDENTES) == 1
    # an operator's retry makes a failed item pending to PHP too, as it is to crm-cli
    assert admin.retry(shop, [queue_rows(shop, "id")[1][0]]) == [queue_rows(shop, "id")[1][0]]
    assert scalar(shop, PHP_PENDENTES) == 2


@pytest.mark.parametrize("backend", MARIADB_ONLY)
def test_php_dashboard_counts(worked_on):
    shop, _, _ = worked_on
    assert scalar(shop, PHP_PROCESSADOS_HOJE) == 1  # the completed one, not the failed one
    with shop.begin() as conn:  # PHP's criado_em is local time; keep it inside the window
        conn.execute(sa.text("UPDATE crm_sync_queue SET criado_em = NOW()"))
    assert scalar(shop, PHP_ERROS_24H) == 1  # the failed one carries erro


def test_crm_cli_never_writes_php_batch_id(worked_on):
    shop, _, _ = worked_on
    assert {row[0] for row in queue_rows(shop, "batch_id")} == {None}


# -- v3: a schema crm-cli created serves PHP's migration-101 objects --------------------


def test_php_v3_statements_work_on_a_schema_crm_cli_created(migrated):
    with migrated.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO crm_sync_schedules (id_loja, entidade, direcao, batch_size, "
                "frequencia_minutos) VALUES (1, 'cliente', 'ecletech_para_crm', 10, 5)"
            )
        )
        schedule = conn.execute(sa.text("SELECT id FROM crm_sync_schedules")).scalar_one()
        conn.execute(
            sa.text(
                "INSERT INTO crm_sync_queue (id_loja, entidade, id_registro, direcao, prioridade, "
                "batch_id, schedule_id) VALUES (1, 'cliente', 7, 'ecletech_para_crm', 5, 'b-1', :s)"
            ),
            {"s": schedule},
        )
        conn.execute(
            sa.text(
                "INSERT INTO crm_sync_logs (batch_id, schedule_id, id_loja, entidade, direcao, "
                "inicio, status) VALUES ('b-1', :s, 1, 'cliente', 'ecletech_para_crm', "
                "'2026-12-02 10:00:00', 'processing')"
            ),
            {"s": schedule},
        )
        batch = conn.execute(
            sa.text("SELECT COUNT(*) FROM crm_sync_queue WHERE batch_id = 'b-1'")
        ).scalar_one()
    assert batch == 1
    queue.claim(migrated, owner="run", limit=10, lease_seconds=60)
    assert queue_rows(migrated, "batch_id", "schedule_id", "status") == [
        ("b-1", schedule, "processing")
    ]


# -- adoption of each PHP schema era ------------------------------------------------------

HISTORY = [  # (processado, tentativas, erro, what it must become)
    (1, 1, None, "completed"),  # sent years ago
    (1, 3, "HTTP 500", "failed"),  # the original worker marked it processed after 3 failures
    (0, 3, "HTTP 500", "failed"),  # given up on: tentativas >= 3
    (0, 0, None, "pending"),  # really pending: the only one that may become due
]


def _php_tables(database, era: int) -> None:
    run_sql_file(database, "crm_tables.mysql.sql")
    with database.begin() as conn:
        if era >= 2:  # 2dcdb4f: external_id on the queue
            conn.exec_driver_sql("ALTER TABLE crm_sync_queue ADD COLUMN external_id VARCHAR(100)")
        if era >= 3:  # migration 101, as PHP v3 runs it
            v3 = importlib.import_module("crm_cli.migrations.versions.0007_php_v3_coexistence")
            conn.exec_driver_sql(v3.MYSQL_SCHEDULES)
            conn.exec_driver_sql(v3.MYSQL_LOGS)
            conn.exec_driver_sql(
                "ALTER TABLE crm_sync_queue "
                "ADD COLUMN batch_id VARCHAR(36) NULL AFTER id, "
                "ADD COLUMN schedule_id INT UNSIGNED NULL AFTER batch_id, "
                "ADD COLUMN status ENUM('pending','processing','completed','failed') "
                "NOT NULL DEFAULT 'pending' AFTER direcao, "
                "ADD COLUMN started_at DATETIME NULL, ADD COLUMN completed_at DATETIME NULL, "
                "ADD COLUMN tempo_processamento_ms INT UNSIGNED NULL, "
                "ADD COLUMN proximo_retry DATETIME NULL, ADD COLUMN erro_mensagem TEXT NULL"
            )
            conn.exec_driver_sql(
                "ALTER TABLE crm_sync_queue ADD INDEX idx_batch_id (batch_id), "
                "ADD INDEX idx_schedule_id (schedule_id), ADD INDEX idx_status (status), "
                "ADD INDEX idx_proximo_retry (proximo_retry)"
            )
            conn.exec_driver_sql(
                "ALTER TABLE crm_sync_queue ADD CONSTRAINT fk_queue_schedule FOREIGN KEY "
                "(schedule_id) REFERENCES crm_sync_schedules(id) ON DELETE SET NULL"
            )
        for n, (processado, tentativas, erro, _) in enumerate(HISTORY, start=1):
            conn.execute(
                sa.text(
                    "INSERT INTO crm_sync_queue (id_loja, entidade, id_registro, direcao, "
                    "processado, tentativas, erro, processado_em) "
                    "VALUES (1, 'cliente', :i, 'ecletech_para_crm', :p, :t, :e, :pe)"
                ),
                {
                    "i": n,
                    "p": processado,
                    "t": tentativas,
                    "e": erro,
                    "pe": "2023-01-01 00:00:00" if processado else None,
                },
            )
        if era >= 3:
            conn.exec_driver_sql("UPDATE crm_sync_queue SET batch_id = 'php-batch-7'")


@pytest.mark.parametrize("backend", MARIADB_ONLY)
@pytest.mark.parametrize("era", [1, 2, 3])
def test_adopting_each_php_era_leaves_no_historical_row_due(cli, database, era):
    _php_tables(database, era)

    result = cli("migrate")

    assert result.exit_code == 0, result.stderr
    assert [row[0] for row in queue_rows(database, "status")] == [h[3] for h in HISTORY]
    claimed = queue.claim(database, owner="first-run", limit=100, lease_seconds=60)
    assert [item.id_registro for item in claimed] == [4]
    if era >= 3:  # PHP's columns and values are kept; its batch count is untouched
        assert {row[0] for row in queue_rows(database, "batch_id")} == {"php-batch-7"}
        assert (
            scalar(database, "SELECT COUNT(*) FROM crm_sync_queue WHERE batch_id = 'php-batch-7'")
            == 4
        )
    assert scalar(database, PHP_PENDENTES) == 0  # the pending one is in flight now
    tables = set(sa.inspect(database).get_table_names())
    assert {"crm_sync_schedules", "crm_sync_logs"} <= tables


# -- the secret --------------------------------------------------------------------------


def test_an_empty_secret_is_the_php_applications_empty_key(monkeypatch):
    blob = encrypt({"api_token": "tok-123456789"}, "")  # what PHP writes with JWT_SECRET=
    monkeypatch.setenv("JWT_SECRET", "")
    with pytest.warns(CrmWarning, match="set but empty"):
        cipher = CredentialCipher.from_environment("JWT_SECRET")
    assert cipher.decrypt(blob, 1) == {"api_token": "tok-123456789"}


def test_the_operator_is_told_the_secret_is_empty(cli, migrated, monkeypatch):
    monkeypatch.setenv("JWT_SECRET", "")
    for _ in range(2):  # every command says so, not only the first of a process
        result = cli("config", "list")
        assert result.exit_code == 0, result.stderr
        assert plain(result.stderr).startswith("crm-cli: warning: $JWT_SECRET is set but empty")


# -- the PHP admin screen rewrites configuracoes ------------------------------------------


def test_crm_cli_settings_survive_an_edit_from_the_php_screen(cli, shop, gc_emulator):
    with shop.begin() as conn:  # ControllerCrm::atualizarIntegracao: only its form's keys
        conn.execute(
            sa.text("UPDATE crm_integracoes SET configuracoes = :c WHERE id_loja = 1"),
            {"c": '{"webhook_url": "https://erp.example/webhook"}'},
        )
    shown = cli("config", "show", "--loja", "1", "--json")
    settings = json.loads(shown.stdout)["configuracoes"]
    assert settings["api_base_url"] == gc_emulator.url  # crm-cli's, kept in its own table
    assert settings["webhook_url"] == "https://erp.example/webhook"  # PHP's, read as it is
    [cid] = erp_tables.add_clientes(shop, 1)
    php_enqueue(shop, [cid])
    assert "Processados: 1" in cli("sync").stdout
    assert gc_emulator.stats()["creates"] == {"clientes": 1}
