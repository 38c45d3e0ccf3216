"""Alembic script directory for crm-cli (run through ``crm-cli migrate``)."""
