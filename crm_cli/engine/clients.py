"""The one place a store's provider client is opened, by one set of rules.

Sync runs, "sync now", ``import``, ``ServiceCrm`` and ``test-connection`` all
get their clients from ``StoreClients``: the store must be configured and
active and not waiting for re-authorisation, its limits come from its settings,
and every request is paced by its account's shared rate limiter within the
time the caller has left (``max_wait``). The client sees only the engine's
contract (``crm_cli.providers.contract``): a ``Pacer`` and, for clients that
rotate tokens, a ``TokenStore``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine

from crm_cli import store_settings
from crm_cli.engine.breaker import CircuitBreaker, endpoint_key
from crm_cli.engine.ratelimit import AccountPolicy, Limits, SharedRateLimiter, quota_key
from crm_cli.errors import (
    CredentialsError,
    EntityNotSupported,
    InvalidRequest,
    ReauthorizationNeeded,
    SecretWrong,
    StoreConfigError,
)
from crm_cli.integrations import REAUTHORIZATION, Integracoes, StoreConfig
from crm_cli.providers.client import BaseClient
from crm_cli.providers.registry import get_provider


class AccountPacer:
    """A client's ``Pacer``: its account's shared limiter and its endpoint's circuit
    breaker (``watch``), within the caller's time."""

    def __init__(self, limiter: SharedRateLimiter, max_wait: float | None = None) -> None:
        self.limiter = limiter
        self.breaker: CircuitBreaker | None = None  # once the client's URL is known
        self.max_wait = max_wait  # seconds a request may wait for its slot (None: no bound)
        self.requests = 0  # slots taken: requests sent

    def watch(self, base_url: str) -> None:
        """Break the circuit of this endpoint: the account at ``base_url``."""
        self.breaker = CircuitBreaker(
            self.limiter.database, endpoint_key(self.limiter.key, base_url), self.limiter.policy
        )

    @property
    def unanswered_in_a_row(self) -> int:
        return self.breaker.unanswered_in_a_row if self.breaker is not None else 0

    def acquire(self) -> float | None:
        if self.breaker is not None:
            self.breaker.check()  # an open circuit is not waited out: the CRM is down
        waited = self.limiter.acquire(self.max_wait)
        self.requests += 1
        return None if self.max_wait is None else max(0.0, self.max_wait - waited)

    def report(self, answered: bool) -> None:
        if self.breaker is None:
            return
        if answered:
            self.breaker.answered()
        else:
            self.breaker.unanswered()

    def pause(self, retry_after: float | None) -> float:
        return self.limiter.pause(retry_after)

    def blocked(self) -> float:
        return self.limiter.pause(self.limiter.policy.edge_block_seconds)


@dataclass(frozen=True)
class StoredTokens:
    """A client's ``TokenStore``: its store's encrypted credentials, changed under a row lock."""

    integracoes: Integracoes
    id_loja: int

    def update(self, change: Callable[[dict[str, Any]], dict[str, Any] | None]) -> dict[str, Any]:
        return self.integracoes.atualizar_credenciais(self.id_loja, change)

    def mark_reauthorization(self, reason: str) -> None:
        self.integracoes.marcar_reautorizacao(self.id_loja, reason)


def open_client(
    store: StoreConfig,
    database: Engine,
    integracoes: Integracoes | None = None,
    pacer: AccountPacer | None = None,
    erp_zone: ZoneInfo | None = None,
) -> BaseClient:
    """The provider client for ``store`` (which need not be saved yet: bling-authorize)."""
    info = get_provider(store.provider)
    if not info.client:
        raise EntityNotSupported(f"provider {info.name} has no API client in this version")
    tokens = StoredTokens(integracoes, store.id_loja) if integracoes is not None else None
    client_class = info.load(info.client)
    pacer = pacer or pacer_for(store, database)
    client = client_class(
        info, store.credenciais, store.configuracoes, pacer, tokens, erp_zone=erp_zone
    )
    pacer.watch(client.base_url)
    return client


def pacer_for(
    store: StoreConfig,
    database: Engine,
    max_wait: float | None = None,
    before_wait: Callable[[], None] | None = None,
    policy: AccountPolicy | None = None,
) -> AccountPacer:
    """The store's account limiter, with the limits of its provider or of its settings."""
    info = get_provider(store.provider)
    settings = store.configuracoes
    per_second = settings.get("rate_limit_per_second", info.rate_per_second)
    daily = settings.get("daily_limit", info.daily_limit)
    limits = Limits(per_second=per_second, daily=int(daily or 0) or None)
    limiter = SharedRateLimiter(database, account_key(store), limits, policy=policy)
    limiter.before_wait = before_wait
    return AccountPacer(limiter, max_wait)


def account_key(store: StoreConfig) -> str:
    """The store's CRM account, as its rate limits and pauses are kept (quota key)."""
    info = get_provider(store.provider)
    account = str(store.credenciais.get(info.quota_credential) or f"loja-{store.id_loja}")
    return quota_key(info.name, account)


def usable(store: StoreConfig) -> StoreConfig:
    """``store`` if its settings and credentials can be used as stored; StoreConfigError
    (the store waits for an operator) naming what to fix otherwise."""
    try:
        info = get_provider(store.provider)
    except InvalidRequest as exc:  # the PHP application may name a provider crm-cli lacks
        raise StoreConfigError(f"store {store.id_loja} cannot be used: {exc.message}") from None
    problems = store_settings.stored_problems(store.configuracoes, info.settings)
    missing = [
        key
        for key in info.required_credentials
        if not isinstance(store.credenciais.get(key), str) or not store.credenciais[key]
    ]
    if missing:
        problems.append(f"the credentials lack {', '.join(missing)} (or hold no text there)")
    if problems:
        raise StoreConfigError(
            f"store {store.id_loja} cannot be used as configured: {'; '.join(problems)} "
            f"(fix it with 'crm-cli config set --loja {store.id_loja} …')"
        )
    return store


class StoreClients:
    """Each store's client, opened once, on first use."""

    def __init__(
        self,
        database: Engine,
        integracoes: Integracoes,
        max_wait: float | None = None,
        before_wait: Callable[[], None] | None = None,
        policy: AccountPolicy | None = None,
        erp_zone: ZoneInfo | None = None,
    ) -> None:
        self.database, self.integracoes = database, integracoes
        self.policy = policy  # the accounts' pauses (None: the defaults)
        self.erp_zone = erp_zone  # handed to each client (None: its default)
        self.before_wait = before_wait  # run while a request waits for its slot
        self._max_wait = max_wait
        self._open: dict[int, tuple[BaseClient, AccountPacer]] = {}
        self._some_decrypt: bool | None = None  # does any store's credentials decrypt?

    def get(self, id_loja: int) -> BaseClient:
        """The store's client. NotFoundError: no active configuration;
        ReauthorizationNeeded: an operator must authorise the store again."""
        if id_loja not in self._open:
            store = usable(self._configuration(id_loja))
            reason = store.setting(REAUTHORIZATION)
            if reason:
                raise ReauthorizationNeeded(
                    f"store {id_loja} must be authorised again ({reason}): "
                    f"run 'crm-cli config bling-authorize --loja {id_loja}'"
                )
            pacer = pacer_for(store, self.database, self._max_wait, self._before_wait, self.policy)
            client = open_client(store, self.database, self.integracoes, pacer, self.erp_zone)
            self._open[id_loja] = (client, pacer)
        return self._open[id_loja][0]

    def _configuration(self, id_loja: int) -> StoreConfig:
        try:
            return self.integracoes.obter_configuracao(id_loja, incluir_inativa=False)
        except SecretWrong:
            raise
        except CredentialsError:
            # One store's credentials may be damaged; when none decrypts, the
            # secret is wrong and nothing can work: that stops the run instead.
            if self._some_decrypt is None:
                self._some_decrypt = self.integracoes.any_decrypts()
            if not self._some_decrypt:
                raise SecretWrong(
                    f"no store's credentials decrypt with ${self.integracoes.cipher.key_env}: "
                    "it does not hold the PHP application's secret (JWT_SECRET in its .env)"
                ) from None
            raise

    def _before_wait(self) -> None:
        if self.before_wait is not None:
            self.before_wait()

    @property
    def max_wait(self) -> float | None:
        return self._max_wait

    @max_wait.setter
    def max_wait(self, seconds: float | None) -> None:
        # Every open client at once: items read ahead hold their client from
        # then, and must wait no longer than what is left of the run now.
        self._max_wait = seconds
        for _client, pacer in self._open.values():
            pacer.max_wait = seconds

    @property
    def requests_sent(self) -> int:
        return sum(pacer.requests for _client, pacer in self._open.values())

    def unanswered_in_a_row(self, id_loja: int) -> int:
        """Requests in a row the store's CRM endpoint left unanswered (0: it answers)."""
        opened = self._open.get(id_loja)
        return opened[1].unanswered_in_a_row if opened is not None else 0
