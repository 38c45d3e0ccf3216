"""Incremental pull: each store's watermark per entity, and what it last saw.

- ``crm_pull_state``: per store and entity, ``watermark`` (an instant, UTC: every
  change the CRM made before it has been applied), the read under way
  (``read_started_at``, which becomes the watermark once the read is done, and
  ``cursor``, the page and the records of it already applied) and
  ``leased_until``, so two overlapping cron runs never read the same changes.
- ``crm_sync_state.received_hash``: the hash of the CRM's record as crm-cli last
  read it. A record read again unchanged (a scan, or the overlap a watermark
  keeps) costs no write and no further request.
- An index on ``crm_sync_state (entidade, external_id)``: a page of changes is
  matched with its links by CRM id.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from crm_cli.db.ddl import MYSQL_TABLE_OPTIONS, index_name

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

STATE = "crm_sync_state"
BY_CRM_ID = "idx_state_external"


def upgrade() -> None:
    dialect = op.get_context().dialect.name
    op.create_table(
        "crm_pull_state",
        sa.Column("id_loja", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("entidade", sa.String(50), primary_key=True),
        sa.Column("watermark", sa.DateTime, nullable=True),  # UTC
        sa.Column("read_started_at", sa.DateTime, nullable=True),  # UTC
        sa.Column("cursor", sa.Text, nullable=True),  # JSON: page, skip
        sa.Column("leased_until", sa.DateTime, nullable=True),  # server clock
        sa.Column("applied", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("errors", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("finished_at", sa.DateTime, nullable=True),  # UTC: the last read done
        **MYSQL_TABLE_OPTIONS,
    )
    op.add_column(STATE, sa.Column("received_hash", sa.String(64), nullable=True))
    op.create_index(index_name(STATE, BY_CRM_ID, dialect), STATE, ["entidade", "external_id"])


def downgrade() -> None:
    dialect = op.get_context().dialect.name
    op.drop_index(index_name(STATE, BY_CRM_ID, dialect), table_name=STATE)
    op.drop_column(STATE, "received_hash")
    op.drop_table("crm_pull_state")
