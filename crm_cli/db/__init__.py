"""Database access: engine, table definitions, migrations (one place for each)."""
