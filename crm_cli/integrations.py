"""Store configurations (``crm_integracoes``): one CRM per store, shared with the PHP app.

The Python API mirrors the original's ``salvarConfiguracao`` / ``obterConfiguracao``
/ ``desativarIntegracao``; the ``config`` commands are a thin layer over it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from crm_cli import store_settings
from crm_cli.credentials import CredentialCipher
from crm_cli.db.clock import app_now
from crm_cli.db.schema import crm_cli_store_settings, crm_integracoes
from crm_cli.errors import (
    CredentialsError,
    CredentialsMissing,
    InvalidRequest,
    StoreUnavailable,
)
from crm_cli.providers.registry import get_provider

# What a disabled store's waiting items say (a run releases them once the PHP
# screen enables the store again)
DISABLED = "CRM integration is disabled"
NOW = object()  # _set: the application's clock's now
REAUTHORIZATION = "reauthorization_needed"  # settings key: why the store must re-authorise

# A store's row with crm-cli's own copy of its settings (crm_cli_store_settings):
# the PHP screen rewrites configuracoes with only its form's keys, so every key
# crm-cli sets is kept in both, and read from ours first.
_WITH_OURS = sa.select(
    crm_integracoes, crm_cli_store_settings.c.configuracoes.label("ours")
).select_from(
    crm_integracoes.outerjoin(
        crm_cli_store_settings, crm_cli_store_settings.c.id_loja == crm_integracoes.c.id_loja
    )
)


@dataclass(frozen=True)
class StoreSummary:
    """A store's configuration without its credentials (no secret needed to read it)."""

    id_loja: int
    provider: str
    ativo: bool
    configuracoes: dict[str, Any]
    criado_em: datetime | None
    atualizado_em: datetime | None
    deletado_em: datetime | None


@dataclass(frozen=True)
class StoreConfig(StoreSummary):
    credenciais: dict[str, Any]

    def setting(self, key: str, default: Any = None) -> Any:
        return self.configuracoes.get(key, default)


def validate_credentials(provider: str, credentials: Any) -> dict[str, Any]:
    """The credentials object, if it holds every key the provider requires."""
    info = get_provider(provider)
    if not isinstance(credentials, dict):
        raise InvalidRequest("credentials must be a JSON object of key: value")
    missing = [key for key in info.required_credentials if credentials.get(key) in (None, "")]
    not_text = [
        key
        for key in info.required_credentials
        if key not in missing and not isinstance(credentials[key], str)
    ]
    if not_text:
        raise InvalidRequest(
            f"credentials for provider '{provider}': {', '.join(not_text)} must be text "
            '(a JSON string in quotes, e.g. "api_token": "abc123")'
        )
    if missing:
        raise InvalidRequest(
            f"credentials for provider '{provider}' lack the required key(s): "
            f"{', '.join(missing)} (required: {', '.join(info.required_credentials)})"
        )
    return credentials


class Integracoes:
    """Reads and writes store configurations, encrypting credentials as PHP does."""

    def __init__(self, database: Engine, cipher: CredentialCipher) -> None:
        self.database = database
        self.cipher = cipher

    # -- reading ---------------------------------------------------------

    def listar(self, incluir_excluidas: bool = False) -> list[StoreSummary]:
        query = _WITH_OURS.order_by(crm_integracoes.c.id_loja, crm_integracoes.c.id)
        if not incluir_excluidas:
            query = query.where(crm_integracoes.c.deletado_em.is_(None))
        with self.database.connect() as conn:
            return [_summary(row) for row in conn.execute(query)]

    def obter_configuracao(self, id_loja: int, incluir_inativa: bool = True) -> StoreConfig:
        """The store's live configuration with decrypted credentials."""
        with self.database.connect() as conn:
            row = self._live_row(conn, id_loja)
        if not row.ativo and not incluir_inativa:
            raise StoreUnavailable(
                f"store {id_loja}'s {DISABLED} "
                f"(enable it with 'crm-cli config enable --loja {id_loja}')",
                "store inactive",
            )
        return self._decrypted(row)

    def any_decrypts(self) -> bool:
        """True when the credentials of at least one live store decrypt with the secret."""
        with self.database.connect() as conn:
            rows = conn.execute(
                sa.select(crm_integracoes.c.id_loja, crm_integracoes.c.credenciais).where(
                    crm_integracoes.c.deletado_em.is_(None)
                )
            ).all()
        for row in rows:
            try:
                self.cipher.decrypt(row.credenciais, row.id_loja)
                return True
            except CredentialsError:
                continue
        return False

    def _decrypted(self, row: sa.Row) -> StoreConfig:
        return StoreConfig(
            **_summary(row).__dict__,
            credenciais=self.cipher.decrypt(row.credenciais, row.id_loja),
        )

    def _live_row(self, conn: Connection, id_loja: int, lock: bool = False) -> sa.Row:
        query = _WITH_OURS.where(crm_integracoes.c.id_loja == id_loja)
        if lock:
            query = query.with_for_update()
        row = conn.execute(query).first()
        if row is None:
            raise StoreUnavailable(
                f"store {id_loja} has no CRM configuration (see 'crm-cli config list'; "
                f"create one with 'crm-cli config set --loja {id_loja} …')",
                "store not configured",
            )
        if row.deletado_em is not None:
            raise StoreUnavailable(
                f"store {id_loja}'s CRM configuration was deleted on {row.deletado_em:%Y-%m-%d}; "
                f"'crm-cli config set --loja {id_loja} …' configures it again",
                "store not configured",
            )
        return row

    # -- writing ---------------------------------------------------------

    def salvar_configuracao(
        self,
        id_loja: int,
        provider: str,
        credenciais: dict[str, Any] | None = None,
        configuracoes: dict[str, Any] | None = None,
        ativo: bool = True,
        remover_configuracoes: Iterable[str] = (),
    ) -> StoreConfig:
        """Insert or update the store's row; a soft-deleted row is revived.

        ``credenciais=None`` keeps the stored credentials (they must exist).
        ``configuracoes`` are merged over the stored settings of a live row.
        """
        info = get_provider(provider)
        if credenciais is not None:
            validate_credentials(provider, credenciais)
        for key, value in (configuracoes or {}).items():
            why = store_settings.problem(key, value, info.settings)
            if why is not None:
                raise InvalidRequest(f"setting {key} {why}; nothing was stored")
        with self.database.begin() as conn:
            row = conn.execute(
                _WITH_OURS.where(crm_integracoes.c.id_loja == id_loja).with_for_update()
            ).first()
            live = row is not None and row.deletado_em is None
            if credenciais is None:
                if not live:
                    raise CredentialsMissing(f"store {id_loja} has no stored credentials")
                credenciais = validate_credentials(
                    provider, self.cipher.decrypt(row.credenciais, id_loja)
                )
            settings = _json_object(row.configuracoes) if live else {}
            ours = _json_object(row.ours) if live else {}
            for copy in (settings, ours):
                copy.update(configuracoes or {})
                for key in remover_configuracoes:
                    copy.pop(key, None)
            values = {
                "provider": provider,
                "credenciais": self.cipher.encrypt(credenciais),
                "configuracoes": settings,
                "ativo": 1 if ativo else 0,
                "deletado_em": None,
                # SQLite has no ON UPDATE CURRENT_TIMESTAMP: set it on every backend,
                # on the PHP application's clock, as it writes its own rows
                "atualizado_em": app_now(conn),
            }
            if row is None:
                conn.execute(
                    sa.insert(crm_integracoes).values(
                        id_loja=id_loja, criado_em=app_now(conn), **values
                    )
                )
            else:
                conn.execute(
                    sa.update(crm_integracoes)
                    .where(crm_integracoes.c.id == row.id)
                    .values(**values)
                )
            _save_ours(conn, id_loja, ours)
            saved = conn.execute(_WITH_OURS.where(crm_integracoes.c.id_loja == id_loja)).one()
        return StoreConfig(**_summary(saved).__dict__, credenciais=credenciais)

    def atualizar_credenciais(
        self, id_loja: int, change: Callable[[dict[str, Any]], dict[str, Any] | None]
    ) -> dict[str, Any]:
        """Read-modify-write of a store's credentials under its row lock.

        ``change`` gets the stored credentials and returns new ones (saved, encrypted,
        before the lock is released) or None to keep them. While one process is in
        here, another waits: an OAuth refresh token is never spent twice.
        """
        with self.database.begin() as conn:
            row = self._live_row(conn, id_loja, lock=True)
            current = self.cipher.decrypt(row.credenciais, id_loja)
            new = change(dict(current))
            if new is None:
                return current
            conn.execute(
                sa.update(crm_integracoes)
                .where(crm_integracoes.c.id == row.id)
                .values(credenciais=self.cipher.encrypt(new), atualizado_em=app_now(conn))
            )
            return new

    def marcar_reautorizacao(self, id_loja: int, motivo: str | None) -> None:
        """Record (or clear, with None) that the store must be authorised again."""
        with self.database.begin() as conn:
            row = self._live_row(conn, id_loja, lock=True)
            settings, ours = _json_object(row.configuracoes), _json_object(row.ours)
            for copy in (settings, ours):
                if motivo is None:
                    copy.pop(REAUTHORIZATION, None)
                else:
                    copy[REAUTHORIZATION] = motivo
            conn.execute(
                sa.update(crm_integracoes)
                .where(crm_integracoes.c.id == row.id)
                .values(configuracoes=settings)
            )
            _save_ours(conn, id_loja, ours)

    def ativar_integracao(self, id_loja: int) -> None:
        self._set(id_loja, ativo=1)

    def desativar_integracao(self, id_loja: int) -> None:
        self._set(id_loja, ativo=0)

    def excluir_integracao(self, id_loja: int) -> None:
        """Soft delete, as the PHP application does: the row stays, ignored."""
        self._set(id_loja, deletado_em=NOW)

    def _set(self, id_loja: int, **values: Any) -> None:
        """Change the store's row; a value ``NOW`` is the application's clock's now."""
        with self.database.begin() as conn:
            row = self._live_row(conn, id_loja, lock=True)
            now = app_now(conn)
            values = {key: now if value is NOW else value for key, value in values.items()}
            conn.execute(
                sa.update(crm_integracoes)
                .where(crm_integracoes.c.id == row.id)
                .values(atualizado_em=now, **values)
            )


def _json_object(value: Any) -> dict[str, Any]:
    """A settings object as stored: JSON, or JSON text (a PHP row in a TEXT-typed copy)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return dict(value) if isinstance(value, dict) else {}


def _save_ours(conn: Connection, id_loja: int, ours: dict[str, Any]) -> None:
    """crm-cli's copy of the store's settings (the row lock on the store is held)."""
    values = {"configuracoes": ours, "atualizado_em": sa.func.current_timestamp()}
    if not conn.execute(
        sa.update(crm_cli_store_settings)
        .where(crm_cli_store_settings.c.id_loja == id_loja)
        .values(**values)
    ).rowcount:
        conn.execute(sa.insert(crm_cli_store_settings).values(id_loja=id_loja, **values))


def _summary(row: sa.Row) -> StoreSummary:
    # crm-cli's copy wins: the PHP screen may have dropped its keys from configuracoes
    settings = {**_json_object(row.configuracoes), **_json_object(row.ours)}
    return StoreSummary(
        id_loja=row.id_loja,
        provider=row.provider,
        ativo=bool(row.ativo if row.ativo is not None else 1),
        configuracoes=settings,
        criado_em=row.criado_em,
        atualizado_em=row.atualizado_em,
        deletado_em=row.deletado_em,
    )
