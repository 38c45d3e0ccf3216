"""``crm-cli demo`` and its scaffolding: sample ERP tables and the loopback emulator
machinery the providers' emulators are built on (also used by the tests)."""
