"""Per-record sync state: the last payload sent (to skip unchanged ones) and the
marker of a create whose outcome is not known yet (to never create twice).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from crm_cli.db.ddl import MYSQL_TABLE_OPTIONS

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "crm_sync_state",
        sa.Column("id_loja", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("entidade", sa.String(50), primary_key=True),
        sa.Column("id_registro", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("external_id", sa.String(100), nullable=True),
        # SHA-256 of the last payload the CRM accepted for this record
        sa.Column("payload_hash", sa.String(64), nullable=True),
        sa.Column("synced_at", sa.DateTime, nullable=True),
        # set just before a create is sent, cleared when its answer is stored:
        # a value left behind means "the CRM may hold this record already"
        sa.Column("create_started_at", sa.DateTime, nullable=True),
        **MYSQL_TABLE_OPTIONS,
    )


def downgrade() -> None:
    op.drop_table("crm_sync_state")
