"""CRM providers: one folder each (client, endpoint data, one handler per entity)."""
