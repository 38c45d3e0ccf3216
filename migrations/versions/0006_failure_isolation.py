"""Failure isolation: the per-account circuit breaker, and items to be claimed alone.

``crm_rate_limits.failures`` counts an account's consecutive requests that got
no answer (connection refused, timeout); at the threshold the account pauses
for ``circuit_ms`` (doubling while the failures go on), shared by every process
like a 429's pause. ``crm_sync_queue.claim_alone`` marks an item whose run
stopped while it held other items too: it is claimed on its own next time, so
an item that kills its run is blamed only once it did so alone.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    zero = sa.text("0")
    op.add_column(
        "crm_rate_limits", sa.Column("failures", sa.Integer, nullable=False, server_default=zero)
    )
    op.add_column(
        "crm_rate_limits",
        sa.Column("circuit_ms", sa.BigInteger, nullable=False, server_default=zero),
    )
    op.add_column(
        "crm_sync_queue",
        sa.Column("claim_alone", sa.SmallInteger, nullable=False, server_default=zero),
    )


def downgrade() -> None:
    op.drop_column("crm_sync_queue", "claim_alone")
    op.drop_column("crm_rate_limits", "circuit_ms")
    op.drop_column("crm_rate_limits", "failures")
