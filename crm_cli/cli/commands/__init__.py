"""One module per command (or command group), each with its own small Typer ``app``;
``crm_cli.cli.app`` joins them."""
