"""Database access: the backends, table definitions, migrations (one place for each)."""
