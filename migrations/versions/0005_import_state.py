"""Where an ``import`` stands, so an interrupted one continues from its page.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from crm_cli.db.ddl import MYSQL_TABLE_OPTIONS

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "crm_import_state",
        sa.Column("id_loja", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("entidade", sa.String(50), primary_key=True),
        # the provider's page marker of the next page to read (JSON), NULL when done
        sa.Column("cursor", sa.Text, nullable=True),
        sa.Column("imported", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("updated", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("inserted", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("errors", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("started_at", sa.DateTime, nullable=True),
        sa.Column("finished_at", sa.DateTime, nullable=True),
        **MYSQL_TABLE_OPTIONS,
    )


def downgrade() -> None:
    op.drop_table("crm_import_state")
