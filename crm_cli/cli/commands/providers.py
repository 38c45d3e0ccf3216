"""``crm-cli test-connection`` and ``crm-cli emulator``."""

from __future__ import annotations

from typing import Any

import typer

from crm_cli.cli.app import app
from crm_cli.cli.render import out
from crm_cli.cli.state import integracoes_of, state_of
from crm_cli.errors import CrmError, UsageError


@app.command("test-connection")
def test_connection(
    ctx: typer.Context,
    loja: int | None = typer.Option(None, "--loja", min=1, help="Check this store."),
    all_stores: bool = typer.Option(False, "--all", help="Check every configured store."),
) -> None:
    """Check stores' CRM credentials with one cheap request each.

    Prints one line per store: 'OK <provider> <latency> ms' or 'FAIL <provider>:
    <cause>', the cause being one of: credentials rejected, store not configured,
    store inactive, cannot decrypt credentials, host not found, connection refused,
    TLS error, timeout, server error (status), rate limited (retry after N s),
    unexpected answer. Exit 0 when every check is OK, 1 otherwise (inactive stores
    are listed as SKIP with --all and do not fail it).
    """
    from crm_cli.connection import check_all, check_store

    if (loja is None) == (not all_stores):
        raise UsageError("give either --loja N or --all")
    integracoes = integracoes_of(ctx)
    engine = state_of(ctx).engine
    if all_stores:
        results = check_all(engine, integracoes)
        if not results:
            raise UsageError("no store is configured (see 'crm-cli config set --help')")
    else:
        results = [check_store(engine, integracoes, loja)]
    for result in results:
        out(result.line())
    if not all(r.ok or r.skipped for r in results):
        raise typer.Exit(1)


@app.command(
    "emulator",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def emulator(
    ctx: typer.Context,
    provider: str = typer.Argument(..., help="gestao_click, pipedrive or bling."),
    port: int = typer.Option(8080, "--port", min=0, max=65535, help="Port on 127.0.0.1 (0: any)."),
    rate: float = typer.Option(0, "--rate", min=0, help="Requests/s before 429 (0: no limit)."),
    daily: int = typer.Option(0, "--daily", min=0, help="Requests/day before 429 (0: no limit)."),
    fail_rate: float = typer.Option(0, "--fail-rate", min=0, max=1, help="Share answered 500."),
    latency: float = typer.Option(0, "--latency", min=0, metavar="MS", help="Delay per answer."),
    seed: int | None = typer.Option(None, "--seed", help="Seed for --fail-rate's dice."),
) -> None:
    """Run a provider's API emulator on loopback, for trying crm-cli without a CRM.

    The credentials it accepts come from flags named after them (gestao_click:
    --access-token A --secret-access-token S; pipedrive: --api-token T; bling:
    --client-id I --client-secret S --refresh-token R, and --token-ttl SECONDS for
    short-lived access tokens); the defaults are printed at start.
    Records and counters are at /_emulator/stats and /_emulator/records/<resource>.
    """
    from providers.registry import get_provider

    info = get_provider(provider)
    if not info.emulator:
        raise UsageError(f"provider {provider} has no emulator in this version")
    emulator_class = info.load(info.emulator)
    credentials, options = _extra_flags(ctx.args, emulator_class)
    server = emulator_class(
        port=port,
        rate=rate or None,
        daily=daily or None,
        fail_rate=fail_rate,
        latency_ms=latency,
        credentials=credentials,
        seed=seed,
        **options,
    )
    accepted = " ".join(f"{k}={v}" for k, v in server.credentials.items())
    try:
        server_thread = server.start()
    except OSError as exc:
        raise CrmError(
            f"cannot listen on 127.0.0.1:{port} ({exc.strerror}); choose another with --port"
        ) from None
    out(f"{info.title} emulator on {server_thread.url} (Ctrl-C stops it)")
    out(f"accepted credentials: {accepted}")
    out(f"stats: {server_thread.url}/_emulator/stats")
    try:
        import threading

        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()


def _extra_flags(args: list[str], emulator_class: Any) -> tuple[dict[str, str], dict[str, Any]]:
    """The provider's own flags: accepted credentials, and its emulator's options."""
    known = {f"--{n.replace('_', '-')}": (n, str, True) for n in emulator_class.CREDENTIALS}
    known |= {f"--{n.replace('_', '-')}": (n, t, False) for n, t in emulator_class.OPTIONS.items()}
    credentials: dict[str, str] = {}
    options: dict[str, Any] = {}
    it = iter(args)
    for arg in it:
        flag, eq, value = arg.partition("=")
        if flag not in known:
            raise UsageError(f"unknown option {flag} (this emulator's own: {', '.join(known)})")
        if not eq:
            value = next(it, "")
        name, kind, is_credential = known[flag]
        try:
            parsed = kind(value) if value else None
        except ValueError:
            parsed = None
        if parsed is None:
            raise UsageError(f"{flag} needs a value")
        (credentials if is_credential else options)[name] = parsed
    return credentials, options
