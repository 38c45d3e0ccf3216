"""Every cron job's run, recorded: a dead cron is seen even while the queue is empty.

``crm_cli_runs``: one row per run of ``sync``, ``pull``, ``schedules``,
``full-sync``, ``import`` and ``cleanup``: its kind, start and end (the database
server's UTC clock), host and pid, counts, result (``running``, ``ok``,
``failed``, ``interrupted``) and error. ``stats`` shows the last of each kind,
``check`` judges their age, ``cleanup`` keeps ``cleanup.log_days`` of them.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from crm_cli.db.ddl import MYSQL_TABLE_OPTIONS, index_name

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

RUNS = "crm_cli_runs"


def upgrade() -> None:
    dialect = op.get_context().dialect.name
    op.create_table(
        RUNS,
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("started_at", sa.DateTime, nullable=False),  # UTC
        sa.Column("finished_at", sa.DateTime, nullable=True),  # UTC; NULL while running
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("processed", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("errors", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("requests", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("result", sa.String(20), nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        **MYSQL_TABLE_OPTIONS,
    )
    op.create_index(index_name(RUNS, "idx_kind_started", dialect), RUNS, ["kind", "started_at"])


def downgrade() -> None:
    op.drop_table(RUNS)
