"""crm-cli: keeps an ERP's MySQL data in sync with external CRMs, driven by cron."""

__version__ = "0.2.0"
