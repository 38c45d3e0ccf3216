"""The three tables of the original PHP migration (crm_tables.sql), exactly.

A database where the PHP application already created them is stamped at this
revision by ``crm-cli migrate`` instead of running it.

Revision ID: 0001
Revises:
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from crm_cli.db.ddl import (
    DIRECTIONS,
    LOG_STATUSES,
    MYSQL_TABLE_OPTIONS,
    TINYINT1,
    created_at,
    enum,
    index_name,
    updated_at,
)

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer, primary_key=True, autoincrement=True)


def _index(table: str, name: str, *columns: str | sa.TextClause) -> sa.Index:
    return sa.Index(index_name(table, name, op.get_context().dialect.name), *columns)


def upgrade() -> None:
    op.create_table(
        "crm_integracoes",
        _id(),
        sa.Column("id_loja", sa.Integer, nullable=False),
        sa.Column("provider", sa.String(50), nullable=False),
        sa.Column("credenciais", sa.Text, nullable=False),
        sa.Column("configuracoes", sa.JSON, nullable=True),
        sa.Column("ativo", TINYINT1, nullable=True, server_default=sa.text("1")),
        created_at(),
        updated_at(),
        sa.Column("deletado_em", sa.TIMESTAMP, nullable=True),
        sa.UniqueConstraint("id_loja", name="unique_loja"),
        _index("crm_integracoes", "idx_provider", "provider"),
        _index("crm_integracoes", "idx_ativo", "ativo"),
        **MYSQL_TABLE_OPTIONS,
    )
    op.create_table(
        "crm_sync_queue",
        _id(),
        sa.Column("id_loja", sa.Integer, nullable=False),
        sa.Column("entidade", sa.String(50), nullable=False),
        sa.Column("id_registro", sa.Integer, nullable=False),
        sa.Column("direcao", enum(*DIRECTIONS, name="direcao"), nullable=False),
        sa.Column("prioridade", sa.Integer, nullable=True, server_default=sa.text("0")),
        sa.Column("tentativas", sa.Integer, nullable=True, server_default=sa.text("0")),
        sa.Column("processado", TINYINT1, nullable=True, server_default=sa.text("0")),
        sa.Column("erro", sa.Text, nullable=True),
        created_at(),
        sa.Column("processado_em", sa.TIMESTAMP, nullable=True),
        sa.Column("deletado_em", sa.TIMESTAMP, nullable=True),
        _index(
            "crm_sync_queue",
            "idx_processar",
            "processado",
            "id_loja",
            sa.text("prioridade DESC"),
            sa.text("criado_em ASC"),
        ),
        _index("crm_sync_queue", "idx_entidade", "entidade", "id_registro"),
        _index("crm_sync_queue", "idx_loja", "id_loja"),
        _index("crm_sync_queue", "idx_processado_em", "processado_em"),
        **MYSQL_TABLE_OPTIONS,
    )
    op.create_table(
        "crm_sync_log",
        _id(),
        sa.Column("id_loja", sa.Integer, nullable=False),
        sa.Column("entidade", sa.String(50), nullable=False),
        sa.Column("id_registro", sa.Integer, nullable=False),
        sa.Column("direcao", enum(*DIRECTIONS, name="direcao"), nullable=False),
        sa.Column("status", enum(*LOG_STATUSES, name="status"), nullable=False),
        sa.Column("mensagem", sa.Text, nullable=True),
        sa.Column("dados_enviados", sa.JSON, nullable=True),
        sa.Column("dados_recebidos", sa.JSON, nullable=True),
        created_at(),
        _index("crm_sync_log", "idx_entidade_registro", "entidade", "id_registro"),
        _index("crm_sync_log", "idx_loja", "id_loja"),
        _index("crm_sync_log", "idx_status", "status"),
        _index("crm_sync_log", "idx_criado_em", "criado_em"),
        **MYSQL_TABLE_OPTIONS,
    )


def downgrade() -> None:
    for table in ("crm_sync_log", "crm_sync_queue", "crm_integracoes"):
        op.drop_table(table)
