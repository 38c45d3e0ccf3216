"""crm-cli's own per-store settings, where the PHP application's screen does not rewrite them.

The PHP admin screen's edit rewrites ``crm_integracoes.configuracoes`` with only
the keys of its form: crm-cli's keys (``api_base_url``, ``rate_limit_per_second``,
``reauthorization_needed``, …) would be lost. They live in
``crm_cli_store_settings`` from now on; the keys already stored in
``configuracoes`` are copied there (and still read there, under ours).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

from crm_cli.db.ddl import MYSQL_TABLE_OPTIONS

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# The keys crm-cli reads or writes (crm_cli.store_settings.KNOWN, less the PHP
# application's own webhook_url), frozen as they were at this revision.
OURS = (
    "api_base_url",
    "rate_limit_per_second",
    "daily_limit",
    "timeout_seconds",
    "company_domain",
    "document_field",
    "reauthorization_needed",
)


def upgrade() -> None:
    table = op.create_table(
        "crm_cli_store_settings",
        sa.Column("id_loja", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("configuracoes", sa.JSON, nullable=False),
        sa.Column("atualizado_em", sa.DateTime, nullable=True),
        **MYSQL_TABLE_OPTIONS,
    )
    if op.get_context().as_sql:
        return
    rows = op.get_bind().execute(
        sa.text("SELECT id_loja, configuracoes FROM crm_integracoes WHERE deletado_em IS NULL")
    )
    copies = []
    for id_loja, stored in rows:
        if isinstance(stored, str):
            try:
                stored = json.loads(stored)
            except ValueError:
                stored = None
        ours = (
            {k: v for k, v in (stored or {}).items() if k in OURS}
            if isinstance(stored, dict)
            else {}
        )
        if ours:
            copies.append({"id_loja": id_loja, "configuracoes": ours})
    if copies:
        op.bulk_insert(table, copies)


def downgrade() -> None:
    op.drop_table("crm_cli_store_settings")
