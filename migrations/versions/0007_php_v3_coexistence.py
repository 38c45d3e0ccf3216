"""Coexistence with every PHP version: the state mapping, and what PHP v3 needs.

- ``processado`` tells PHP's statements the truth about crm-cli's states:
  ``processing`` and ``failed`` items are ``processado = 1`` (``processado_em``
  NULL), so PHP v1/v2's enqueue no longer folds a new change into them, and
  its dashboards count neither as pending (see crm_cli.engine.queue).
- What PHP v3's migration 101 (``101_criar_sistema_agendamento_crm.sql``)
  creates, where missing and exactly as it defines it: ``crm_sync_queue``'s
  ``schedule_id`` (FK ``fk_queue_schedule``) and indexes ``idx_batch_id``,
  ``idx_schedule_id``, ``idx_status``, ``idx_proximo_retry``; the tables
  ``crm_sync_schedules`` and ``crm_sync_logs``.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from crm_cli.db.ddl import INT_UNSIGNED, MYSQL_TABLE_OPTIONS, enum, index_name

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

QUEUE = "crm_sync_queue"

# PHP's migration 101, verbatim but for its comments (github.com/jrcassa/Ecletech,
# database/migrations/101_criar_sistema_agendamento_crm.sql at 8074296).
MYSQL_SCHEDULES = """
CREATE TABLE IF NOT EXISTS `crm_sync_schedules` (
  `id` INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
  `id_loja` INT UNSIGNED NOT NULL COMMENT 'ID da loja (ou external_id se configurado)',
  `entidade` ENUM('cliente', 'produto', 'venda') NOT NULL COMMENT 'Entidade a sincronizar',
  `direcao` ENUM('crm_para_ecletech', 'ecletech_para_crm', 'bidirecional') NOT NULL
    COMMENT 'Direção da sincronização',
  `batch_size` INT UNSIGNED NOT NULL DEFAULT 10 COMMENT 'Quantidade de registros por lote',
  `frequencia_minutos` INT UNSIGNED NOT NULL DEFAULT 5
    COMMENT 'Frequência de execução (1, 5, 15, 60, etc)',
  `horario_inicio` TIME NULL COMMENT 'Horário de início permitido (NULL = sempre)',
  `horario_fim` TIME NULL COMMENT 'Horário de fim permitido (NULL = sempre)',
  `ativo` BOOLEAN NOT NULL DEFAULT TRUE COMMENT 'Schedule ativo/inativo',
  `ultima_execucao` DATETIME NULL COMMENT 'Última vez que foi executado',
  `proxima_execucao` DATETIME NULL COMMENT 'Próxima execução agendada',
  `executando` BOOLEAN NOT NULL DEFAULT FALSE COMMENT 'Flag para evitar execuções simultâneas',
  `total_execucoes` INT UNSIGNED NOT NULL DEFAULT 0 COMMENT 'Total de execuções realizadas',
  `total_registros_processados` INT UNSIGNED NOT NULL DEFAULT 0
    COMMENT 'Total de registros processados',
  `total_erros` INT UNSIGNED NOT NULL DEFAULT 0 COMMENT 'Total de erros',
  `criado_em` DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  `atualizado_em` DATETIME NULL ON UPDATE CURRENT_TIMESTAMP,
  `deletado_em` DATETIME NULL COMMENT 'Soft delete',
  INDEX `idx_loja_entidade` (`id_loja`, `entidade`),
  INDEX `idx_proxima_execucao` (`proxima_execucao`, `ativo`),
  INDEX `idx_ativo` (`ativo`),
  INDEX `idx_deletado_em` (`deletado_em`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
COMMENT='Agendamentos automáticos de sincronização CRM'
"""

MYSQL_LOGS = """
CREATE TABLE IF NOT EXISTS `crm_sync_logs` (
  `id` BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
  `batch_id` VARCHAR(36) NOT NULL COMMENT 'ID do lote processado',
  `schedule_id` INT UNSIGNED NULL COMMENT 'ID do agendamento',
  `id_loja` INT UNSIGNED NOT NULL,
  `entidade` ENUM('cliente', 'produto', 'venda') NOT NULL,
  `direcao` ENUM('crm_para_ecletech', 'ecletech_para_crm') NOT NULL,
  `total_registros` INT UNSIGNED NOT NULL DEFAULT 0 COMMENT 'Total de registros no batch',
  `registros_processados` INT UNSIGNED NOT NULL DEFAULT 0
    COMMENT 'Registros processados com sucesso',
  `registros_criados` INT UNSIGNED NOT NULL DEFAULT 0 COMMENT 'Novos registros criados',
  `registros_atualizados` INT UNSIGNED NOT NULL DEFAULT 0 COMMENT 'Registros atualizados',
  `registros_com_erro` INT UNSIGNED NOT NULL DEFAULT 0 COMMENT 'Registros com erro',
  `inicio` DATETIME NOT NULL COMMENT 'Início do processamento',
  `fim` DATETIME NULL COMMENT 'Fim do processamento',
  `tempo_total_ms` INT UNSIGNED NULL COMMENT 'Tempo total em milissegundos',
  `status` ENUM('processing', 'completed', 'failed', 'partial') NOT NULL DEFAULT 'processing',
  `erro_geral` TEXT NULL COMMENT 'Erro geral do batch (se houver)',
  `detalhes` JSON NULL COMMENT 'Detalhes adicionais do processamento',
  `criado_em` DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  INDEX `idx_batch_id` (`batch_id`),
  INDEX `idx_schedule_id` (`schedule_id`),
  INDEX `idx_loja_entidade` (`id_loja`, `entidade`),
  INDEX `idx_inicio` (`inicio`),
  INDEX `idx_status` (`status`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
COMMENT='Logs detalhados de sincronização CRM'
"""

QUEUE_INDEXES = {  # PHP's names -> columns
    "idx_batch_id": ["batch_id"],
    "idx_schedule_id": ["schedule_id"],
    "idx_status": ["status"],
    "idx_proximo_retry": ["proximo_retry"],
}


def _present() -> tuple[set[str], set[str], set[str], set[str]]:
    """Tables, queue columns, queue indexes and queue foreign keys already there."""
    if op.get_context().as_sql:  # --sql for a DBA: assume crm-cli's own schema
        return set(), set(), set(), set()
    inspector = sa.inspect(op.get_bind())
    return (
        set(inspector.get_table_names()),
        {c["name"] for c in inspector.get_columns(QUEUE)},
        {i["name"] for i in inspector.get_indexes(QUEUE)},
        {fk["name"] for fk in inspector.get_foreign_keys(QUEUE) if fk.get("name")},
    )


def upgrade() -> None:
    op.execute(f"UPDATE {QUEUE} SET processado = 1 WHERE status IN ('failed', 'processing')")
    dialect = op.get_context().dialect.name
    mysql = dialect in ("mysql", "mariadb")
    tables, columns, indexes, foreign_keys = _present()
    if "crm_sync_schedules" not in tables:
        if mysql:
            op.execute(MYSQL_SCHEDULES)
        else:
            _sqlite_schedules()
    if "crm_sync_logs" not in tables:
        if mysql:
            op.execute(MYSQL_LOGS)
        else:
            _sqlite_logs()
    if "schedule_id" not in columns:
        op.add_column(QUEUE, sa.Column("schedule_id", INT_UNSIGNED, nullable=True))
    for name, cols in QUEUE_INDEXES.items():
        full = index_name(QUEUE, name, dialect)
        if full not in indexes:
            op.create_index(full, QUEUE, cols)
    if mysql and "fk_queue_schedule" not in foreign_keys:
        op.create_foreign_key(
            "fk_queue_schedule",
            QUEUE,
            "crm_sync_schedules",
            ["schedule_id"],
            ["id"],
            ondelete="SET NULL",
        )


def _sqlite_schedules() -> None:
    """The same table for SQLite, which has no ENUM, COMMENT or ON UPDATE."""
    op.create_table(
        "crm_sync_schedules",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("id_loja", sa.Integer, nullable=False),
        sa.Column("entidade", enum("cliente", "produto", "venda", name="e"), nullable=False),
        sa.Column("direcao", sa.String(20), nullable=False),
        sa.Column("batch_size", sa.Integer, nullable=False, server_default=sa.text("10")),
        sa.Column("frequencia_minutos", sa.Integer, nullable=False, server_default=sa.text("5")),
        sa.Column("horario_inicio", sa.Time),
        sa.Column("horario_fim", sa.Time),
        sa.Column("ativo", sa.Boolean, nullable=False, server_default=sa.text("1")),
        sa.Column("ultima_execucao", sa.DateTime),
        sa.Column("proxima_execucao", sa.DateTime),
        sa.Column("executando", sa.Boolean, nullable=False, server_default=sa.text("0")),
        sa.Column("total_execucoes", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column(
            "total_registros_processados", sa.Integer, nullable=False, server_default=sa.text("0")
        ),
        sa.Column("total_erros", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("criado_em", sa.DateTime, nullable=False, server_default=sa.func.now()),
        sa.Column("atualizado_em", sa.DateTime),
        sa.Column("deletado_em", sa.DateTime),
        **MYSQL_TABLE_OPTIONS,
    )


def _sqlite_logs() -> None:
    zero = sa.text("0")
    op.create_table(
        "crm_sync_logs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("batch_id", sa.String(36), nullable=False),
        sa.Column("schedule_id", sa.Integer),
        sa.Column("id_loja", sa.Integer, nullable=False),
        sa.Column("entidade", sa.String(20), nullable=False),
        sa.Column("direcao", sa.String(20), nullable=False),
        sa.Column("total_registros", sa.Integer, nullable=False, server_default=zero),
        sa.Column("registros_processados", sa.Integer, nullable=False, server_default=zero),
        sa.Column("registros_criados", sa.Integer, nullable=False, server_default=zero),
        sa.Column("registros_atualizados", sa.Integer, nullable=False, server_default=zero),
        sa.Column("registros_com_erro", sa.Integer, nullable=False, server_default=zero),
        sa.Column("inicio", sa.DateTime, nullable=False),
        sa.Column("fim", sa.DateTime),
        sa.Column("tempo_total_ms", sa.Integer),
        sa.Column("status", sa.String(20), nullable=False, server_default="processing"),
        sa.Column("erro_geral", sa.Text),
        sa.Column("detalhes", sa.JSON),
        sa.Column("criado_em", sa.DateTime, nullable=False, server_default=sa.func.now()),
        **MYSQL_TABLE_OPTIONS,
    )


def downgrade() -> None:
    """Leaves PHP v3's objects in place: the PHP application may be using them."""
    op.execute(
        f"UPDATE {QUEUE} SET processado = 0 WHERE status = 'failed' AND processado_em IS NULL"
    )
