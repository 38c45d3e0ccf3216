"""The generic half of every provider client: paced requests and CRUD by endpoint map.

A provider's client subclasses ``BaseClient`` and fills in what differs between
CRMs: auth headers, the answer envelope (``unwrap``) and pagination
(``page_params`` / ``next_page``). Everything else — pacing, timeouts, error
kinds, the natural-key lookup — is here, once. What the engine gives a client
is its ``Pacer`` and, for clients that rotate tokens, its ``TokenStore``
(``crm_cli.providers.contract``); the engine opens clients in ``crm_cli.engine.clients``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import requests

from crm_cli import http
from crm_cli.errors import (
    EntityNotSupported,
    ProviderTimeout,
    ProviderUnreachable,
    RateLimited,
    UnexpectedAnswer,
    ValidationFailed,
)
from crm_cli.providers.base import EntitySpec, ProviderInfo
from crm_cli.providers.contract import Pacer, TokenStore
from crm_cli.providers.fields import SELLER

ACCOUNT_TIME_ZONE = "America/Sao_Paulo"  # a Brazilian CRM account's, unless its store says


@dataclass(frozen=True)
class Page:
    records: list[dict[str, Any]]
    next: Any  # what to pass to ``listar(page=…)`` for the next page; None on the last


class BaseClient:
    def __init__(
        self,
        info: ProviderInfo,
        credentials: Mapping[str, Any],
        settings: Mapping[str, Any],
        pacer: Pacer,
        tokens: TokenStore | None = None,
        erp_zone: ZoneInfo | None = None,
    ) -> None:
        self.info = info
        # the zone of the ERP's wall times (database.app_time_zone), for handlers'
        # local times the API wants in UTC
        self.erp_zone = erp_zone or ZoneInfo(ACCOUNT_TIME_ZONE)
        self.credentials = dict(credentials)
        self.settings = dict(settings)
        self.pacer = pacer
        self.tokens = tokens  # where rotated tokens are saved (None: nowhere)
        self.base_url = str(settings.get("api_base_url") or info.default_base_url).rstrip("/")
        read_timeout = float(settings.get("timeout_seconds") or http.READ_TIMEOUT)
        self.timeout = (min(http.CONNECT_TIMEOUT, read_timeout), read_timeout)
        self.session = http.new_session(self.base_url)

    # -- what each provider defines ----------------------------------------

    def auth_headers(self) -> dict[str, str]:
        raise NotImplementedError

    def unwrap_body(self, response: requests.Response) -> Any:
        """The parsed body of a 2xx answer; raise the right error kind otherwise."""
        raise NotImplementedError

    def data_of(self, body: Any) -> Any:
        """The payload inside the provider's envelope."""
        raise NotImplementedError

    def page_params(self, page: Any) -> dict[str, Any]:
        raise NotImplementedError

    def next_page(self, response_body: Any, page: Any) -> Any:
        raise NotImplementedError

    def retry_after_of(self, response: requests.Response) -> float | None:
        """Seconds a 429 asks us to wait (None: not said; the limiter backs off)."""
        return http.retry_after(response)

    def observe(self, response: requests.Response) -> None:
        """Look at every answer (rate-limit headers, for providers that send them)."""

    def outgoing(self, entity: str, operation: str, payload: dict[str, Any]) -> dict[str, Any]:
        """A handler's payload as this store sends it: where its settings shape the
        request (a custom field's key, an account's own ids). ``operation``: criar
        or atualizar."""
        return payload

    def incoming(self, entity: str, record: dict[str, Any]) -> dict[str, Any]:
        """A record read from the CRM, in the terms its handler's ``to_internal`` reads."""
        return record

    def seller(self, payload: dict[str, Any]) -> str | None:
        """The CRM user who sold the sale in ``payload``: its ERP ``vendedor_id`` (taken out
        of the payload) through the store's ``vendedores`` map. None: the sale names no
        seller, or the store maps none; ValidationFailed: the map lacks this one."""
        erp = payload.pop(SELLER, None)
        sellers = self._sellers()
        if erp in (None, "") or not sellers:
            return None
        if str(erp) not in sellers:
            raise ValidationFailed(
                f"the sale's vendedor_id {erp} has no {self.info.title} user in "
                f"configuracoes.vendedores (it maps {', '.join(sorted(sellers))})"
            )
        return sellers[str(erp)]

    def erp_seller(self, crm_user: Any) -> str | None:
        """The ERP's vendedor_id for the CRM's user, by the store's ``vendedores`` map."""
        back = {crm: erp for erp, crm in self._sellers().items()}
        return back.get(str(crm_user)) if crm_user not in (None, "") else None

    def _sellers(self) -> dict[str, str]:
        mapping = self.settings.get("vendedores") or {}
        return {str(erp): str(crm) for erp, crm in mapping.items()}

    def records_of(self, data: Any) -> list[dict[str, Any]]:
        if not isinstance(data, list):
            raise UnexpectedAnswer(f"{self.info.title}: a list answer holds no list")
        return data

    def external_id(self, record: Mapping[str, Any]) -> str:
        value = record.get("id")
        if value in (None, ""):
            raise UnexpectedAnswer(f"{self.info.title}: the record has no id")
        return str(value)

    @property
    def record_zone(self) -> ZoneInfo:
        """The zone of this CRM's timestamps that carry no offset: the provider's, when its
        API documents one; else the account's (``configuracoes.company_time_zone``),
        America/Sao_Paulo unless set (GestãoClick and Bling keep Brazilian time)."""
        name = self.info.record_time_zone or self.settings.get("company_time_zone")
        return ZoneInfo(str(name or ACCOUNT_TIME_ZONE))

    def ping(self) -> None:
        """One cheap authenticated request (test-connection)."""
        first = next(iter(self.info.entities))
        self.listar(first)

    # -- what changed (crm-cli pull) --------------------------------------------

    # the oldest change a CRM lists (None: any); a pull asks no earlier
    max_change_age: dt.timedelta | None = None

    def filters_changes(self, entity: str) -> bool:
        """Whether the CRM lists only the records changed since an instant. If not,
        ``changes`` lists every record, and the pull skips those it read before
        unchanged (their hashes): a scan costs requests, never writes."""
        return False

    def changes(self, entity: str, since: dt.datetime, page: Any = None) -> Page:
        """A page of the records the CRM changed since ``since`` (an aware instant;
        earlier ones may come too), in the terms ``to_internal`` reads; ``page``: the
        previous page's ``next``, which is JSON (a pull resumes from it)."""
        return self.listar(entity, page)

    def lists_whole(self, entity: str) -> bool:
        """Whether a list item is the whole record. If not, a changed record is read
        whole (``complete``) before it is compared with what was last read: a change
        to a field the list does not show must not pass for no change."""
        return True

    def complete(self, entity: str, record: dict[str, Any]) -> dict[str, Any]:
        """A changed record as ``buscar`` gives it (a CRM whose list items hold
        less fetches it; the others have it already, or add its parts)."""
        return record

    def complete_many(self, entity: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """``complete`` of several records, in order (a CRM that can, in fewer requests)."""
        return [self.complete(entity, record) for record in records]

    # -- requests ----------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> requests.Response:
        """Send one request in the account's next free slot; 429s pause every process."""
        url = f"{self.base_url}{path}"
        response = self.send(method, url, params=params, json=json, headers=self.auth_headers())
        self.observe(response)
        if response.status_code == 429:
            paused = self.pacer.pause(self.retry_after_of(response))
            raise RateLimited(
                f"{http.where(method, url)}: HTTP 429 from {self.info.title}; "
                f"account paused {paused:.1f} s",
                paused,
            )
        if http.blocked_at_the_edge(response):
            # Not the API refusing our credentials: its edge firewall blocking
            # the account's traffic (after ignored 429s). Every process rests.
            paused = self.pacer.blocked()
            raise RateLimited(
                f"{http.where(method, url)}: HTTP 403 page from {self.info.title}'s firewall "
                f"(not its API); account paused {paused:.0f} s",
                paused,
            )
        return response

    def send(
        self, method: str, url: str, *, slot_taken: bool = False, **kwargs: Any
    ) -> requests.Response:
        """One request in the account's next free slot, never taking longer than the
        caller has left; whether it got an answer feeds the account's circuit breaker.

        ``slot_taken``: the caller took the slot already, and may hold a database
        lock (Bling's token refresh): nothing is written to the account's row then.
        """
        left = None if slot_taken else self.pacer.acquire()
        connect, read = self.timeout
        if left is not None:  # a hanging CRM must not eat the others' time
            connect, read = min(connect, max(left, 1.0)), min(read, max(left, 1.0))
        try:
            response = http.send(self.session, method, url, timeout=(connect, read), **kwargs)
        except (ProviderTimeout, ProviderUnreachable):
            if not slot_taken:
                self.pacer.report(answered=False)
            raise
        if not slot_taken:
            self.pacer.report(answered=True)
        return response

    def call(
        self,
        entity: str,
        operation: str,
        *,
        record_id: str | None = None,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> Any:
        endpoint = self.entity(entity).endpoints.get(operation)
        if endpoint is None:
            raise EntityNotSupported(
                f"operation '{operation}' on entity '{entity}' is not supported by "
                f"provider {self.info.name}"
            )
        path = endpoint.path.replace("{id}", requests.utils.quote(str(record_id or ""), safe=""))
        return self.unwrap(self.request(endpoint.method, path, params=params, json=json))

    def entity(self, name: str) -> EntitySpec:
        spec = self.info.entities.get(name)
        if spec is None:
            why = self.info.unsupported.get(name)
            raise EntityNotSupported(
                f"entity '{name}' is not supported by provider {self.info.name}"
                + (f": {why}" if why else "")
            )
        return spec

    # -- the five operations, plus the natural-key lookup ---------------------

    def criar(self, entity: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        body = self.outgoing(entity, "criar", dict(payload))
        return self._record(self.call(entity, "criar", json=body))

    def atualizar(self, entity: str, record_id: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        body = self.outgoing(entity, "atualizar", dict(payload))
        return self._record(self.call(entity, "atualizar", record_id=record_id, json=body))

    def buscar(self, entity: str, record_id: str) -> dict[str, Any]:
        record = self._record(self.call(entity, "buscar", record_id=record_id))
        return self.incoming(entity, record)

    def deletar(self, entity: str, record_id: str) -> None:
        self.call(entity, "deletar", record_id=record_id)

    def listar(
        self, entity: str, page: Any = None, params: Mapping[str, Any] | None = None
    ) -> Page:
        endpoint = self.entity(entity).endpoints.get("listar")
        if endpoint is None:
            raise EntityNotSupported(f"listing '{entity}' is not supported by {self.info.name}")
        query = {**(params or {}), **self.page_params(page)}
        body = self.unwrap_body(self.request(endpoint.method, endpoint.path, params=query))
        records = [self.incoming(entity, r) for r in self.records_of(self.data_of(body))]
        return Page(records, self.next_page(body, page))

    def iterar(self, entity: str, params: Mapping[str, Any] | None = None) -> Iterator[dict]:
        page: Any = None
        seen: set[str] = set()
        while True:
            result = self.listar(entity, page, params)
            yield from result.records
            if result.next is None:
                return
            marker = repr(result.next)
            if marker in seen:  # a server that hands out the same page twice
                raise UnexpectedAnswer(f"{self.info.title}: pagination repeats page {marker}")
            seen.add(marker)
            page = result.next

    def procurar(self, entity: str, row: Mapping[str, Any]) -> dict[str, Any] | None:
        """The CRM record that is this ERP row, found by its natural key (or None)."""
        found = self.matching(entity, row)
        return found[0] if found else None

    def matching(self, entity: str, row: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Every CRM record whose natural key is this ERP row's, as the provider
        normalises it (the handler's ``matches``): none, one, or several copies."""
        handler = self.entity(entity).load_handler()
        params = handler.lookup_params(row)
        if not params:
            return []
        return [record for record in self.iterar(entity, params) if handler.matches(record, row)]

    # -- envelopes ------------------------------------------------------------

    def unwrap(self, response: requests.Response) -> Any:
        return self.data_of(self.unwrap_body(response))

    def _record(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise UnexpectedAnswer(
                f"{self.info.title}: expected a record, got {type(data).__name__}"
            )
        return data
