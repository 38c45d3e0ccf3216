"""The command-line layer: parse, call the library, render. Nothing else lives here."""

from crm_cli.cli.app import app, main

__all__ = ["app", "main"]
