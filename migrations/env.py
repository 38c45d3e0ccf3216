"""Alembic environment: run by ``crm-cli migrate`` with a connection (or a URL for --sql)."""

from alembic import context

from crm_cli.db.ddl import VERSION_TABLE

config = context.config

if context.is_offline_mode():
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        literal_binds=True,
        version_table=VERSION_TABLE,
        dialect_opts={"paramstyle": "named"},
    )
else:
    connection = config.attributes.get("connection")
    if connection is None:  # Alembic's own command line: crm-cli's configured database
        from crm_cli.db.backends import open_database
        from crm_cli.settings import load_settings

        connection = open_database(load_settings().database_url).connect()
    context.configure(connection=connection, version_table=VERSION_TABLE)

with context.begin_transaction():
    context.run_migrations()
