"""``crm-cli config``: store configurations and their encrypted credentials."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import typer

from crm_cli.cli.options import MAX_ID
from crm_cli.cli.render import out, table, warn
from crm_cli.cli.state import integracoes_of, settings_of, state_of
from crm_cli.errors import CredentialsMissing, UsageError

app = typer.Typer(
    name="config",
    help=(
        "Store CRM configurations (one per store, id_loja) in crm_integracoes, with "
        "credentials encrypted exactly as the PHP application does (secret from "
        "$JWT_SECRET, or the variable named by credentials.key_env). Secrets are "
        "never taken from the command line and always shown masked."
    ),
    no_args_is_help=True,
)

LOJA = typer.Option(..., "--loja", min=1, max=MAX_ID, help="Store id (crm_integracoes.id_loja).")
FALLBACK = typer.Option(
    False,
    "--allow-fallback-key",
    help=(
        "If the secret variable is unset, read credentials with the PHP application's "
        "well-known fallback key (warns). Same as credentials.allow_fallback_key: true."
    ),
)


@app.command("set")
def set_(
    ctx: typer.Context,
    loja: int = LOJA,
    provider: str | None = typer.Option(
        None,
        "--provider",
        help="gestao_click, pipedrive or bling (or an installed plug-in); needed for a new "
        "store, else the store's own.",
    ),
    credentials_file: str | None = typer.Option(
        None,
        "--credentials-file",
        metavar="PATH|-",
        help=(
            "JSON object of credentials, from a file or '-' for stdin. Without it: a hidden "
            "prompt for each required credential on a terminal, else the stored ones are kept."
        ),
    ),
    setting: list[str] = typer.Option(
        [],
        "--setting",
        metavar="KEY=VALUE",
        help=(
            "Store a setting in configuracoes (repeatable); VALUE is parsed as JSON when it "
            "can be. api_base_url overrides the provider's base URL."
        ),
    ),
    unset: list[str] = typer.Option(
        [], "--unset-setting", metavar="KEY", help="Remove a setting (repeatable)."
    ),
    inactive: bool = typer.Option(False, "--inactive", help="Save it disabled."),
) -> None:
    """Create or update a store's CRM configuration (revives a deleted one). Settings
    merge into the stored ones; an existing store keeps its provider unless told.

    Example: crm-cli config set --loja 1 --provider gestao_click --credentials-file creds.json

    Example: crm-cli config set --loja 1 --setting timeout_seconds=20
    """
    from crm_cli.engine.queue import unpark_store
    from crm_cli.providers.registry import get_provider

    provider = provider or _stored_provider(ctx, loja)
    info = get_provider(provider)
    settings = dict(_parse_setting(s) for s in setting)
    credentials = _read_credentials(credentials_file, info.required_credentials)
    try:
        saved = integracoes_of(ctx).salvar_configuracao(
            loja, provider, credentials, settings, ativo=not inactive, remover_configuracoes=unset
        )
    except CredentialsMissing as exc:
        raise UsageError(
            f"{exc.message}: give them with --credentials-file PATH (or - for stdin)"
        ) from None
    if saved.ativo:  # whatever made its items wait may be what was just fixed
        unpark_store(state_of(ctx).database, loja)
    _warn_of_unsettled_owners(ctx)
    state = "active" if saved.ativo else "inactive"
    out(f"Store {saved.id_loja}: {saved.provider} configured, {state}.")
    out(f"  credentials: {_masked(saved.credenciais)}")
    if saved.configuracoes:
        out(f"  settings: {_settings_text(saved.configuracoes)}")


def _stored_provider(ctx: typer.Context, loja: int) -> str:
    """The provider of store ``loja`` as configured (no secret needed)."""
    stored = [s for s in integracoes_of(ctx).listar() if s.id_loja == loja]
    if not stored:
        raise UsageError(
            f"store {loja} has no configuration yet: give --provider (gestao_click, "
            "pipedrive or bling)"
        )
    return stored[0].provider


_SETTING_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


def _warn_of_unsettled_owners(ctx: typer.Context) -> None:
    """Stores on several CRM accounts sharing rows with no owner: said now, not at 3 am."""
    from crm_cli.engine.ownership import Ownership

    for line in Ownership.of(integracoes_of(ctx)).ambiguities(settings_of(ctx)):
        warn(f"{line}; until then their items wait")


def _parse_setting(text: str) -> tuple[str, Any]:
    """``KEY=VALUE`` → (key, value); a value that parses as JSON is kept as such."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not _SETTING_KEY.match(key):
        raise UsageError(f"--setting '{text}' is not KEY=VALUE (e.g. api_base_url=https://…)")
    try:
        return key, json.loads(raw)
    except ValueError:
        return key, raw


def _read_credentials(source: str | None, required: tuple[str, ...]) -> dict[str, Any] | None:
    if source is None:
        if not sys.stdin.isatty():
            return None
        return {key: typer.prompt(key, hide_input=True) for key in required}
    if source == "-":
        origin, text = "stdin", sys.stdin.read()
    else:
        path = Path(source)
        origin = f"credentials file {path}"
        if path.is_dir():
            raise UsageError(f"{origin} is a directory: give the JSON file in it")
        if not path.is_file():
            raise UsageError(f"{origin} does not exist")
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read {origin}: {exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        # exc.msg and the position only: the text itself may hold secrets
        raise UsageError(
            f"{origin} is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from None
    if not isinstance(data, dict):
        raise UsageError(
            f"{origin} must hold a JSON object of key: value, not {type(data).__name__}"
        )
    return data


def _masked(credentials: dict[str, Any]) -> str:
    from crm_cli.credentials import mask_all

    return ", ".join(f"{k}={v}" for k, v in mask_all(credentials).items())


def _settings_text(settings: dict[str, Any]) -> str:
    return ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in settings.items())


def _when(value: Any) -> str | None:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else None


@app.command("show")
def show(
    ctx: typer.Context,
    loja: int = LOJA,
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    allow_fallback_key: bool = FALLBACK,
) -> None:
    """Show a store's configuration, credentials masked.

    Example: crm-cli config show --loja 1
    """
    from crm_cli.credentials import mask_all

    config = integracoes_of(ctx, allow_fallback_key).obter_configuracao(loja)
    data = {
        "id_loja": config.id_loja,
        "provider": config.provider,
        "ativo": config.ativo,
        "credenciais": mask_all(config.credenciais),
        "configuracoes": config.configuracoes,
        "criado_em": _when(config.criado_em),
        "atualizado_em": _when(config.atualizado_em),
    }
    if as_json:
        out(json.dumps(data, ensure_ascii=False, sort_keys=True))
        return
    out(f"id_loja: {config.id_loja}")
    out(f"provider: {config.provider}")
    out(f"ativo: {'yes' if config.ativo else 'no'}")
    for key, value in data["credenciais"].items():
        out(f"credenciais.{key}: {value}")
    for key, value in config.configuracoes.items():
        out(f"configuracoes.{key}: {json.dumps(value, ensure_ascii=False)}")
    out(f"criado_em: {data['criado_em']}")
    out(f"atualizado_em: {data['atualizado_em']}")


@app.command("list")
def list_(
    ctx: typer.Context,
    deleted: bool = typer.Option(False, "--deleted", help="Include deleted configurations."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array."),
) -> None:
    """List the configured stores: provider, active, last update (no secret needed).

    Example: crm-cli config list
    """
    stores = integracoes_of(ctx).listar(incluir_excluidas=deleted)
    rows = [
        {
            "id_loja": s.id_loja,
            "provider": s.provider,
            "ativo": s.ativo,
            "atualizado_em": _when(s.atualizado_em),
            "deletado_em": _when(s.deletado_em),
        }
        for s in stores
    ]
    if as_json:
        out(json.dumps(rows, ensure_ascii=False))
        return
    columns = ["id_loja", "provider", "ativo", "atualizado_em"] + (
        ["deletado_em"] if deleted else []
    )
    table(
        "CRM integrations",
        columns,
        [[r[c] if c != "ativo" else ("yes" if r[c] else "no") for c in columns] for r in rows],
    )


@app.command("enable")
def enable(ctx: typer.Context, loja: int = LOJA) -> None:
    """Enable a store's integration (its waiting queue items are due again at once).

    Example: crm-cli config enable --loja 1
    """
    from crm_cli.engine.queue import unpark_store

    integracoes_of(ctx).ativar_integracao(loja)
    unpark_store(state_of(ctx).database, loja)
    out(f"Store {loja}: integration enabled.")
    _warn_of_unsettled_owners(ctx)


@app.command("disable")
def disable(ctx: typer.Context, loja: int = LOJA) -> None:
    """Disable a store's integration: its queue items wait, attempts intact, until
    'config enable' (nothing is deleted, nothing fails).

    Example: crm-cli config disable --loja 1
    """
    integracoes_of(ctx).desativar_integracao(loja)
    out(f"Store {loja}: integration disabled.")


@app.command("resume")
def resume(ctx: typer.Context, loja: int = LOJA) -> None:
    """Lift the pause of a store's CRM account (a 429's Retry-After, a spent budget,
    an open circuit): every store on that account is tried again by the next run,
    its pending items due at once, attempts intact.

    Example: crm-cli config resume --loja 3
    """
    from crm_cli.services.pauses import resume as lift

    resumed = lift(state_of(ctx).database, integracoes_of(ctx), loja)
    stores = ", ".join(str(n) for n in resumed.lojas)
    was = (
        f"a pause of {resumed.seconds_left} s lifted"
        if resumed.seconds_left
        else "it was not paused"
    )
    out(
        f"Store {loja}: account {resumed.account} (stores {stores}): {was}; "
        f"{resumed.items_due} pending item(s) due now."
    )


@app.command("delete")
def delete(ctx: typer.Context, loja: int = LOJA) -> None:
    """Soft-delete a store's configuration (deletado_em set, as the PHP application does).

    Example: crm-cli config delete --loja 1
    """
    integracoes_of(ctx).excluir_integracao(loja)
    out(f"Store {loja}: configuration deleted (config set revives it).")


@app.command("bling-authorize")
def bling_authorize(
    ctx: typer.Context,
    loja: int = LOJA,
    credentials_file: str | None = typer.Option(
        None,
        "--credentials-file",
        metavar="PATH|-",
        help="JSON with client_id and client_secret, when the store has none stored yet.",
    ),
) -> None:
    """Authorise a Bling store: print the consent URL, then exchange the pasted code.

    Open the URL as the Bling account's owner, allow the app, and paste the `code`
    parameter of the page Bling redirects to (asked for on the terminal, or read
    from stdin). The tokens are saved encrypted, and a store waiting for
    re-authorisation is back in service.

    Example: crm-cli config bling-authorize --loja 3
    """
    from crm_cli.services.authorization import begin_bling_authorization

    app_credentials = (
        _read_credentials(credentials_file, ()) if credentials_file is not None else None
    )
    try:
        authorization = begin_bling_authorization(
            state_of(ctx).database, integracoes_of(ctx), loja, app_credentials
        )
    except CredentialsMissing as exc:
        raise UsageError(f"{exc.message}: give them with --credentials-file") from None
    out("Open this URL, allow the app, and copy the 'code' from the page it returns to:")
    out(authorization.url)
    code = typer.prompt("code", hide_input=True) if sys.stdin.isatty() else sys.stdin.readline()
    if not code.strip():
        raise UsageError("no authorisation code given")
    saved = authorization.finish(code)
    out(f"Store {loja}: Bling authorised; tokens saved ({_masked(saved.credenciais)}).")
