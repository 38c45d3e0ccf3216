"""Changed-only full sync, behind live changes.

- ``crm_sync_state.source_updated_at``: the ERP row's own ``updated_at`` value
  when crm-cli last sent it successfully. ``full-sync`` queues only rows whose
  ``updated_at`` differs (or that were never sent): the same column compared
  with itself, so no two clocks are ever compared.
- ``crm_sync_queue.bulk``: 1 for items ``full-sync`` queued. A run claims them
  after the live changes of the same priority (the PHP application's own
  statements, which read ``prioridade`` and ``criado_em``, see nothing new), so
  a bulk backlog never delays the changes operators make. ``idx_claim`` gains
  the column, in claim order, so the claim still reads straight from it.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from crm_cli.db.ddl import index_name

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

QUEUE = "crm_sync_queue"
CLAIM_INDEX = "idx_claim"


def upgrade() -> None:
    dialect = op.get_context().dialect.name
    op.add_column("crm_sync_state", sa.Column("source_updated_at", sa.DateTime, nullable=True))
    op.add_column(
        QUEUE, sa.Column("bulk", sa.SmallInteger, nullable=False, server_default=sa.text("0"))
    )
    claim = index_name(QUEUE, CLAIM_INDEX, dialect)
    op.drop_index(claim, table_name=QUEUE)
    # Serves: WHERE status='pending' ORDER BY prioridade DESC, bulk, criado_em, id
    op.create_index(claim, QUEUE, ["status", sa.text("prioridade DESC"), "bulk", "criado_em", "id"])


def downgrade() -> None:
    dialect = op.get_context().dialect.name
    claim = index_name(QUEUE, CLAIM_INDEX, dialect)
    op.drop_index(claim, table_name=QUEUE)
    op.create_index(claim, QUEUE, ["status", sa.text("prioridade DESC"), "criado_em", "id"])
    op.drop_column(QUEUE, "bulk")
    op.drop_column("crm_sync_state", "source_updated_at")
