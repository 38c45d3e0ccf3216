"""Shared rate-limit state: one row per provider account (quota owner).

Every process on every host paces its requests through this row with one
atomic conditional UPDATE, so together they stay under the provider's limit.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from crm_cli.db.ddl import MYSQL_TABLE_OPTIONS

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "crm_rate_limits",
        # provider + ':' + hash of the account credential (two stores may share one account)
        sa.Column("quota_key", sa.String(100), primary_key=True),
        # times are the database server's clock, in Unix milliseconds
        sa.Column("next_slot_ms", sa.BigInteger, nullable=False, server_default=sa.text("0")),
        sa.Column("paused_until_ms", sa.BigInteger, nullable=False, server_default=sa.text("0")),
        sa.Column("backoff_ms", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("day_number", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("day_count", sa.Integer, nullable=False, server_default=sa.text("0")),
        **MYSQL_TABLE_OPTIONS,
    )


def downgrade() -> None:
    op.drop_table("crm_rate_limits")
