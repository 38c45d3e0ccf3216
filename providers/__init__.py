"""CRM providers, one folder each: ``config.py`` (what the provider is: base URL,
limits, credentials it needs, endpoints), its client, and one handler per entity.

Providers are found by the name stored in ``crm_integracoes.provider``: first
among the folders of this package, then among the ``crm_cli.providers`` entry
points of other installed packages (see crm_cli.providers.registry).
"""
