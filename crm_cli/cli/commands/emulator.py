"""``crm-cli emulator``: a provider's API on loopback."""

from __future__ import annotations

from typing import Any

import typer

from crm_cli.cli.render import out
from crm_cli.errors import CrmError, UsageError

app = typer.Typer()


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

    Example: crm-cli emulator gestao_click --port 8765
    """
    from crm_cli.providers.registry import get_provider

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
