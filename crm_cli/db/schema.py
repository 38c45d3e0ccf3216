"""The CRM tables as the code sees them after every migration (queries use these).

The DDL itself lives in ``migrations/versions``: each revision is a frozen
snapshot, so the tables the PHP application created are never redefined here.
"""

from __future__ import annotations

import sqlalchemy as sa

from crm_cli.db.ddl import (
    DIRECTIONS,
    INT_UNSIGNED,
    LOG_STATUSES,
    QUEUE_STATUSES,
    TINYINT1,
    enum,
)

metadata = sa.MetaData()

crm_integracoes = sa.Table(
    "crm_integracoes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("id_loja", sa.Integer, nullable=False),
    sa.Column("provider", sa.String(50), nullable=False),
    sa.Column("credenciais", sa.Text, nullable=False),
    sa.Column("configuracoes", sa.JSON, nullable=True),
    sa.Column("ativo", TINYINT1),
    sa.Column("criado_em", sa.TIMESTAMP),
    sa.Column("atualizado_em", sa.TIMESTAMP),
    sa.Column("deletado_em", sa.TIMESTAMP),
)

# revision 0008: crm-cli's own keys of each store's settings (the PHP screen
# rewrites crm_integracoes.configuracoes with only its own form's keys)
crm_cli_store_settings = sa.Table(
    "crm_cli_store_settings",
    metadata,
    sa.Column("id_loja", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("configuracoes", sa.JSON, nullable=False),
    sa.Column("atualizado_em", sa.DateTime),
)

crm_sync_queue = sa.Table(
    "crm_sync_queue",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("id_loja", sa.Integer, nullable=False),
    sa.Column("entidade", sa.String(50), nullable=False),
    sa.Column("id_registro", sa.Integer, nullable=True),
    sa.Column("direcao", enum(*DIRECTIONS, name="direcao"), nullable=False),
    sa.Column("prioridade", sa.Integer),
    sa.Column("tentativas", sa.Integer),
    sa.Column("processado", TINYINT1),
    sa.Column("erro", sa.Text),
    sa.Column("criado_em", sa.TIMESTAMP),
    sa.Column("processado_em", sa.TIMESTAMP),
    sa.Column("deletado_em", sa.TIMESTAMP),
    # added by revision 0002 (names the application's team already used)
    sa.Column("external_id", sa.String(100)),
    sa.Column("status", enum(*QUEUE_STATUSES, name="status")),
    sa.Column("started_at", sa.DateTime),
    sa.Column("completed_at", sa.DateTime),
    sa.Column("tempo_processamento_ms", INT_UNSIGNED),
    sa.Column("proximo_retry", sa.DateTime),
    sa.Column("erro_mensagem", sa.Text),
    sa.Column("batch_id", sa.String(36)),
    sa.Column("lease_owner", sa.String(64)),
    sa.Column("lease_expires_at", sa.DateTime),
    # revision 0006: its last run stopped while holding it among others (claim it alone)
    sa.Column("claim_alone", sa.SmallInteger, nullable=False, server_default=sa.text("0")),
    # revision 0009: when crm-cli's wait for it ends, on the server's clock (UTC)
    sa.Column("due_at", sa.DateTime),
    # revision 0010: queued by full-sync (claimed after live changes of its priority)
    sa.Column("bulk", sa.SmallInteger, nullable=False, server_default=sa.text("0")),
)

crm_sync_log = sa.Table(
    "crm_sync_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("id_loja", sa.Integer, nullable=False),
    sa.Column("entidade", sa.String(50), nullable=False),
    sa.Column("id_registro", sa.Integer, nullable=False),
    sa.Column("direcao", enum(*DIRECTIONS, name="direcao"), nullable=False),
    sa.Column("status", enum(*LOG_STATUSES, name="status"), nullable=False),
    sa.Column("mensagem", sa.Text),
    sa.Column("dados_enviados", sa.JSON),
    sa.Column("dados_recebidos", sa.JSON),
    sa.Column("criado_em", sa.TIMESTAMP),
)

ORIGINAL_TABLES = ("crm_integracoes", "crm_sync_queue", "crm_sync_log")

crm_rate_limits = sa.Table(
    "crm_rate_limits",
    metadata,
    sa.Column("quota_key", sa.String(100), primary_key=True),
    sa.Column("next_slot_ms", sa.BigInteger, nullable=False),
    sa.Column("paused_until_ms", sa.BigInteger, nullable=False),
    sa.Column("backoff_ms", sa.Integer, nullable=False),
    sa.Column("day_number", sa.Integer, nullable=False),
    sa.Column("day_count", sa.Integer, nullable=False),
    sa.Column("failures", sa.Integer, nullable=False),  # consecutive requests unanswered
    sa.Column("circuit_ms", sa.BigInteger, nullable=False),  # the open circuit's pause
)

crm_sync_state = sa.Table(
    "crm_sync_state",
    metadata,
    sa.Column("id_loja", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("entidade", sa.String(50), primary_key=True),
    sa.Column("id_registro", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("external_id", sa.String(100)),
    sa.Column("payload_hash", sa.String(64)),
    sa.Column("synced_at", sa.DateTime),
    sa.Column("create_started_at", sa.DateTime),
    # revision 0010: the row's updated_at when last sent (full-sync: changed since?)
    sa.Column("source_updated_at", sa.DateTime),
    # revision 0011: the hash of the CRM's record as last read (pull: unchanged?)
    sa.Column("received_hash", sa.String(64)),
)

# revision 0011: where each store's incremental pull stands, per entity
crm_pull_state = sa.Table(
    "crm_pull_state",
    metadata,
    sa.Column("id_loja", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("entidade", sa.String(50), primary_key=True),
    sa.Column("watermark", sa.DateTime),
    sa.Column("read_started_at", sa.DateTime),
    sa.Column("cursor", sa.Text),
    sa.Column("leased_until", sa.DateTime),
    sa.Column("applied", sa.Integer, nullable=False),
    sa.Column("errors", sa.Integer, nullable=False),
    sa.Column("finished_at", sa.DateTime),
)

crm_import_state = sa.Table(
    "crm_import_state",
    metadata,
    sa.Column("id_loja", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("entidade", sa.String(50), primary_key=True),
    sa.Column("cursor", sa.Text),
    sa.Column("imported", sa.Integer, nullable=False),
    sa.Column("updated", sa.Integer, nullable=False),
    sa.Column("inserted", sa.Integer, nullable=False),
    sa.Column("errors", sa.Integer, nullable=False),
    sa.Column("started_at", sa.DateTime),
    sa.Column("finished_at", sa.DateTime),
)


# PHP v3's schedules and their batch logs (its migration 101; crm-cli's revision 0007
# creates them where missing). Their timestamps are on the PHP application's clock.
crm_sync_schedules = sa.Table(
    "crm_sync_schedules",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("id_loja", sa.Integer, nullable=False),
    sa.Column("entidade", sa.String(20), nullable=False),
    sa.Column("direcao", sa.String(20), nullable=False),
    sa.Column("batch_size", sa.Integer, nullable=False),
    sa.Column("frequencia_minutos", sa.Integer, nullable=False),
    sa.Column("horario_inicio", sa.Time),
    sa.Column("horario_fim", sa.Time),
    sa.Column("ativo", sa.Boolean, nullable=False),
    sa.Column("ultima_execucao", sa.DateTime),
    sa.Column("proxima_execucao", sa.DateTime),
    sa.Column("executando", sa.Boolean, nullable=False),
    sa.Column("total_execucoes", sa.Integer, nullable=False),
    sa.Column("total_registros_processados", sa.Integer, nullable=False),
    sa.Column("total_erros", sa.Integer, nullable=False),
    sa.Column("criado_em", sa.DateTime),
    sa.Column("atualizado_em", sa.DateTime),
    sa.Column("deletado_em", sa.DateTime),
)

crm_sync_logs = sa.Table(
    "crm_sync_logs",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
    sa.Column("batch_id", sa.String(36), nullable=False),
    sa.Column("schedule_id", sa.Integer),
    sa.Column("id_loja", sa.Integer, nullable=False),
    sa.Column("entidade", sa.String(20), nullable=False),
    sa.Column("direcao", sa.String(20), nullable=False),
    sa.Column("total_registros", sa.Integer, nullable=False),
    sa.Column("registros_processados", sa.Integer, nullable=False),
    sa.Column("registros_criados", sa.Integer, nullable=False),
    sa.Column("registros_atualizados", sa.Integer, nullable=False),
    sa.Column("registros_com_erro", sa.Integer, nullable=False),
    sa.Column("inicio", sa.DateTime, nullable=False),
    sa.Column("fim", sa.DateTime),
    sa.Column("tempo_total_ms", sa.Integer),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("erro_geral", sa.Text),
    sa.Column("detalhes", sa.JSON),
    sa.Column("criado_em", sa.DateTime),
)


# revision 0012: every cron job's run (crm_cli.services.runs)
crm_cli_runs = sa.Table(
    "crm_cli_runs",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("started_at", sa.DateTime, nullable=False),
    sa.Column("finished_at", sa.DateTime),
    sa.Column("host", sa.String(255), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("processed", sa.Integer, nullable=False),
    sa.Column("errors", sa.Integer, nullable=False),
    sa.Column("requests", sa.Integer, nullable=False),
    sa.Column("result", sa.String(20), nullable=False),
    sa.Column("error", sa.Text),
)
