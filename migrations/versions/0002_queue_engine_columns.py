"""Queue columns the sync engine needs, and the index its claim query uses.

Column names are those the application's team already added in the original
project; a column that exists (the PHP side may have added it) is left alone.
Every column is NULLable or has a default, so the PHP application's INSERTs,
which name only the original columns, keep working.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from crm_cli.db.ddl import INT_UNSIGNED, QUEUE_STATUSES, enum, index_name

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TABLE = "crm_sync_queue"
CLAIM_INDEX = "idx_claim"


def _new_columns() -> list[sa.Column]:
    return [
        # CRM→ERP items whose local row does not exist yet carry only this id
        sa.Column("external_id", sa.String(100), nullable=True),
        sa.Column(
            "status",
            enum(*QUEUE_STATUSES, name="status"),
            nullable=False,
            server_default="pending",
        ),
        sa.Column("started_at", sa.DateTime, nullable=True),
        sa.Column("completed_at", sa.DateTime, nullable=True),
        sa.Column("tempo_processamento_ms", INT_UNSIGNED, nullable=True),
        sa.Column("proximo_retry", sa.DateTime, nullable=True),
        sa.Column("erro_mensagem", sa.Text, nullable=True),
        sa.Column("batch_id", sa.String(36), nullable=True),
        # the lease: which run holds a processing item, and until when
        sa.Column("lease_owner", sa.String(64), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime, nullable=True),
    ]


def _existing() -> tuple[set[str], set[str], bool]:
    """Columns and indexes already present, and whether id_registro is NULLable."""
    if op.get_context().as_sql:  # --sql for a DBA: assume the original schema
        return set(), set(), False
    inspector = sa.inspect(op.get_bind())
    columns = {c["name"]: c for c in inspector.get_columns(TABLE)}
    indexes = {i["name"] for i in inspector.get_indexes(TABLE)}
    return set(columns), indexes, bool(columns["id_registro"]["nullable"])


def upgrade() -> None:
    columns, indexes, nullable = _existing()
    dialect = op.get_context().dialect.name
    with op.batch_alter_table(TABLE) as batch:
        for column in _new_columns():
            if column.name not in columns:
                batch.add_column(column)
        if not nullable:
            batch.alter_column("id_registro", existing_type=sa.Integer, nullable=True)
    if dialect == "sqlite" and not nullable:
        _restore_sqlite_processar_index()
    # History, by the original columns, whatever ``status`` says: a ``status``
    # already here came from the PHP application's migration 101 (its v3), with
    # DEFAULT 'pending' on every old row. Rows the original worker finished, or
    # gave up on (3 attempts), must not become due. It marked rows processed
    # after their third failure too (its defect 4): those, with an error kept,
    # become 'failed' so an operator can retry them.
    op.execute(
        f"UPDATE {TABLE} SET status = CASE WHEN tentativas >= 3 AND erro IS NOT NULL "
        "THEN 'failed' ELSE 'completed' END, completed_at = processado_em "
        "WHERE processado = 1"
    )
    op.execute(
        f"UPDATE {TABLE} SET status = 'failed', processado = 1 "
        "WHERE processado = 0 AND tentativas >= 3"
    )
    if "status" in columns:  # v3's own states of unfinished rows: due again, as pending
        op.execute(f"UPDATE {TABLE} SET status = 'pending' WHERE processado = 0 AND tentativas < 3")
    claim = index_name(TABLE, CLAIM_INDEX, dialect)
    if claim not in indexes:
        # Serves: WHERE status='pending' ORDER BY prioridade DESC, criado_em, id
        # straight from the index, with no filesort however deep the queue.
        op.create_index(
            claim,
            TABLE,
            ["status", sa.text("prioridade DESC"), "criado_em", "id"],
        )


def _restore_sqlite_processar_index() -> None:
    # SQLite changes a column's NULLability by copying the table, and the copy
    # reflects idx_processar without its DESC: put the original back.
    name = index_name(TABLE, "idx_processar", "sqlite")
    op.drop_index(name, table_name=TABLE)
    op.create_index(
        name, TABLE, ["processado", "id_loja", sa.text("prioridade DESC"), sa.text("criado_em ASC")]
    )


def downgrade() -> None:
    dialect = op.get_context().dialect.name
    op.drop_index(index_name(TABLE, CLAIM_INDEX, dialect), table_name=TABLE)
    with op.batch_alter_table(TABLE) as batch:
        for column in reversed(_new_columns()):
            batch.drop_column(column.name)
