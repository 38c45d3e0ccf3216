"""``crm-cli demo --database URL``: a newcomer's try-out in a real database (MariaDB),
left ready to go on by hand with the commands it prints."""

from __future__ import annotations

import sqlalchemy as sa

from crm_cli.demo import sample_erp


def test_the_demo_runs_in_the_given_database_and_says_what_next(cli, db_url, database):
    result = cli("demo", "--database", db_url, "--port", "0")

    assert result.exit_code == 0, result.stderr
    assert "export JWT_SECRET=crm-cli-demo-secret" in result.stdout
    assert "crm-cli emulator gestao_click --port " in result.stdout
    with database.connect() as conn:
        synced = conn.execute(
            sa.text("SELECT COUNT(*) FROM clientes WHERE external_id IS NOT NULL")
        ).scalar()
        store = conn.execute(sa.text("SELECT provider FROM crm_integracoes")).scalar()
    assert synced == 20 and store == "gestao_click"


def test_a_database_with_erp_tables_is_refused_without_force(cli, db_url, database):
    sample_erp.create(database)

    refused = cli("demo", "--database", db_url, "--port", "0")

    assert refused.exit_code == 2
    assert "has ERP tables already (" in refused.stderr and "clientes" in refused.stderr
    assert "--force" in refused.stderr
    with database.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM clientes")).scalar() == 0
