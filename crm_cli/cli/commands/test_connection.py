"""``crm-cli test-connection``: one cheap request per store."""

from __future__ import annotations

import dataclasses

import typer

from crm_cli.cli.options import MAX_ID
from crm_cli.cli.render import out, out_json
from crm_cli.cli.state import integracoes_of, state_of
from crm_cli.errors import UsageError

app = typer.Typer()


@app.command("test-connection")
def test_connection(
    ctx: typer.Context,
    loja: int | None = typer.Option(None, "--loja", min=1, max=MAX_ID, help="Check this store."),
    all_stores: bool = typer.Option(False, "--all", help="Check every configured store."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per store, in a list."),
) -> None:
    """Check stores' CRM credentials with one cheap request each.

    Prints one line per store: 'OK <provider> <latency> ms' or 'FAIL <provider>:
    <cause>', the cause being one of: credentials rejected, store not configured,
    store inactive, cannot decrypt credentials, host not found, connection refused,
    TLS error, timeout, server error (status), rate limited (retry after N s),
    unexpected answer. Exit 0 when every check is OK, 1 otherwise (inactive stores
    are listed as SKIP with --all and do not fail it).

    Example: crm-cli test-connection --all
    """
    from crm_cli.services.connection import check_all, check_store

    if (loja is None) == (not all_stores):
        raise UsageError("give either --loja N or --all")
    integracoes = integracoes_of(ctx)
    database = state_of(ctx).database
    if all_stores:
        results = check_all(database, integracoes)
        if not results:
            raise UsageError("no store is configured (see 'crm-cli config set --help')")
    else:
        results = [check_store(database, integracoes, loja)]
    if as_json:
        out_json([dataclasses.asdict(r) for r in results])
    else:
        for result in results:
            out(result.line())
    if not all(r.ok or r.skipped for r in results):
        raise typer.Exit(1)
