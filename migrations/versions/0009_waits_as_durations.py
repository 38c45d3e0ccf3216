"""crm-cli's waits as durations: ``crm_sync_queue.due_at``, on the database server's clock.

``proximo_retry`` is the PHP application's wall time (its ``date()`` in
``database.app_time_zone``), and a wall time is not a duration: a wait set before
a zone's clock falls back an hour lasts an hour longer (10 minutes become 70),
and one set before it springs forward ends an hour early. Every wait crm-cli
sets (a retry's backoff, a park, a pause) now also goes in ``due_at``, the
server's clock (UTC) plus the wait, and an item with ``due_at`` is due when it
passes; ``proximo_retry`` is still written for the PHP application's screens,
and still decides for the items only it has scheduled.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("crm_sync_queue", sa.Column("due_at", sa.DateTime, nullable=True))


def downgrade() -> None:
    op.drop_column("crm_sync_queue", "due_at")
