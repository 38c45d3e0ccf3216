"""Bling API v3's client: OAuth2 tokens, the ``{data}`` / ``{error}`` envelopes, ``pagina`` pages.

The access token lasts 6 h. It is refreshed a few minutes before it expires,
and once more on a 401. The refresh happens under the store's row lock in
``crm_integracoes`` (its ``TokenStore``), and the answer —
Bling rotates the refresh token — is saved, encrypted, before the lock is
released: two processes never spend the same refresh token, and the second
one simply reads the first one's fresh token. A refresh token Bling refuses
puts the store in the "re-authorization needed" state.
"""

from __future__ import annotations

import base64
import datetime as dt
import math
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import requests

from crm_cli import http
from crm_cli.errors import AuthError, ReauthorizationNeeded, UnexpectedAnswer, ValidationFailed
from crm_cli.providers.bling.config import AUTHORIZE_PATH, AUTHORIZE_URL, TOKEN_PATH
from crm_cli.providers.client import BaseClient, Page
from crm_cli.providers.fields import SELLER

REFRESH_MARGIN = 300  # seconds before expiry when the token is refreshed
TOKEN_LIFETIME = 21_600.0  # an access token's documented life: 6 h
PAGE_SIZE = 100
# What a list reads unless told (official OpenAPI, GET /contatos and /produtos):
# ``criterio`` defaults to "Últimos incluídos" (contatos 3, produtos 1); the
# documented "all" is contatos 1 ("Todos") and produtos 5 ("Todos").
LIST_CRITERIA = {"cliente": {"criterio": 1}, "produto": {"criterio": 5}}
# GET /produtos filters by stock with ``filtroSaldoEstoque`` (0 zero, 1 positive,
# 2 negative), positive by default and with no "all": a product list reads each.
STOCK_STATES = (1, 0, 2)
PAYMENT_FORMS = "/formas-pagamentos"
CHANGED = "%Y-%m-%d %H:%M:%S"  # dataAlteracaoInicial (official OpenAPI example)
# A change period longer than a year is refused (developer.bling.com.br/limites#filtros)
MAX_CHANGE_RANGE = dt.timedelta(days=365)


class BlingClient(BaseClient):
    _default_form: int | None = None  # the account's default payment form, once asked

    # -- tokens -----------------------------------------------------------------------

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._access_token()}", "enable-jwt": "1"}

    def _fresh(self, credentials: Mapping[str, Any]) -> bool:
        expires_at = float(credentials.get("expires_at") or 0)
        return bool(credentials.get("access_token")) and expires_at - time.time() > REFRESH_MARGIN

    def _access_token(self) -> str:
        if not self._fresh(self.credentials):
            self.refresh()
        return str(self.credentials["access_token"])

    def refresh(self, stale_token: str | None = None) -> None:
        """Get a new access token, unless another process just did (then use theirs)."""
        if self.tokens is None:
            raise AuthError("Bling: this client cannot save refreshed tokens (no store)")
        id_loja = self.tokens.id_loja
        # The slot is taken before the row lock: on SQLite the limiter's own write
        # would otherwise wait on the lock this transaction holds.
        self.pacer.acquire()
        refused: list[str] = []

        def change(stored: dict[str, Any]) -> dict[str, Any] | None:
            if self._fresh(stored) and stored.get("access_token") != stale_token:
                return None  # another process refreshed while we waited for the lock
            try:
                tokens = self._token_request(
                    {"grant_type": "refresh_token", "refresh_token": stored["refresh_token"]},
                    stored,
                )
            except ReauthorizationNeeded as exc:
                refused.append(exc.message)
                return None
            return {**stored, **tokens}

        self.credentials = self.tokens.update(change)
        if refused:
            self.tokens.mark_reauthorization(refused[0])
            raise ReauthorizationNeeded(
                f"store {id_loja}: {refused[0]}; run 'crm-cli config bling-authorize --loja "
                f"{id_loja}'"
            )

    def _token_request(self, form: dict[str, str], credentials: Mapping[str, Any]) -> dict:
        """POST /oauth/token; the tokens to store, or the reason Bling refused."""
        basic = base64.b64encode(
            f"{credentials['client_id']}:{credentials['client_secret']}".encode()
        ).decode()
        response = self.send(
            "POST",
            f"{self.base_url}{TOKEN_PATH}",
            slot_taken=True,  # by refresh() / exchange_code(), before the store's row lock
            data=form,
            headers={
                "Authorization": f"Basic {basic}",
                "enable-jwt": "1",
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        body = _json_or_none(response)
        if response.status_code >= 400:
            kind = _error_type(body) or f"HTTP {response.status_code}"
            if kind == "invalid_client":
                raise AuthError("Bling refused the client_id/client_secret (invalid_client)")
            if response.status_code in (400, 401):
                grant = form["grant_type"].replace("_", " ")
                raise ReauthorizationNeeded(f"Bling refused the {grant} ({kind})")
            http.raise_for_status(response, kind)
        if not isinstance(body, dict) or not body.get("access_token"):
            raise UnexpectedAnswer("Bling's token endpoint answered without an access_token")
        return {
            "access_token": body["access_token"],
            "refresh_token": body.get("refresh_token") or form.get("refresh_token"),
            "expires_at": int(time.time() + _lifetime(body.get("expires_in"))),
        }

    def authorize_url(self, state: str) -> str:
        """The consent page the Bling account's owner opens to allow the app; the page
        it returns to carries the ``code`` for ``exchange_code`` (and ``state``)."""
        override = self.settings.get("api_base_url")
        page = f"{str(override).rstrip('/')}{AUTHORIZE_PATH}" if override else AUTHORIZE_URL
        query = {
            "response_type": "code",
            "client_id": self.credentials["client_id"],
            "state": state,
        }
        return f"{page}?{urlencode(query)}"

    def exchange_code(self, code: str) -> dict[str, Any]:
        """First tokens from an authorisation code (``config bling-authorize``)."""
        self.pacer.acquire()
        return self._token_request(
            {"grant_type": "authorization_code", "code": code}, self.credentials
        )

    # -- requests -----------------------------------------------------------------------

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        # Refresh (in its own rate-limit slot) before taking this request's slot:
        # refreshing inside it would send two requests in one slot.
        token = self._access_token()
        response = super().request(method, path, **kwargs)
        if response.status_code == 401:  # expired early or revoked: refresh once, try again
            self.refresh(stale_token=str(self.credentials.get("access_token") or token))
            response = super().request(method, path, **kwargs)
        return response

    def retry_after_of(self, response: requests.Response) -> float | None:
        error = (_json_or_none(response) or {}).get("error") or {}
        if isinstance(error, dict) and error.get("period") == "day":
            return http.until_next_utc_day()
        return http.retry_after(response) or (1.0 if error else None)

    def unwrap_body(self, response: requests.Response) -> Any:
        body = _json_or_none(response)
        if response.status_code < 300:
            if not response.content:
                return {"data": None}  # PUT and DELETE answer with an empty body
            if not isinstance(body, dict) or "data" not in body:
                raise UnexpectedAnswer(
                    f"{http.where(response.request.method or '?', response.request.url or '')}: "
                    "answer is not Bling's {data} envelope"
                )
            return body
        http.raise_for_status(response, _error_detail(body))
        return body  # not reached

    def data_of(self, body: Any) -> Any:
        return body["data"]

    def page_params(self, page: Any) -> dict[str, Any]:
        return {"pagina": int(page or 1), "limite": PAGE_SIZE}

    def next_page(self, body: Any, page: Any) -> Any:
        # Bling's lists carry no paging metadata: a full page means "maybe more"
        data = body.get("data") if isinstance(body, dict) else None
        return int(page or 1) + 1 if isinstance(data, list) and len(data) >= PAGE_SIZE else None

    def listar(
        self, entity: str, page: Any = None, params: Mapping[str, Any] | None = None
    ) -> Page:
        """A page of every record, not of Bling's defaults (LIST_CRITERIA); products
        page through each stock state in turn: the page is then [state, pagina]."""
        query = {**LIST_CRITERIA.get(entity, {}), **(params or {})}
        if entity != "produto" or "filtroSaldoEstoque" in query:
            return super().listar(entity, page, query)
        state, number = page if isinstance(page, (list, tuple)) else (STOCK_STATES[0], page)
        result = super().listar(entity, number, {**query, "filtroSaldoEstoque": state})
        if result.next is not None:
            return Page(result.records, [state, result.next])
        following = STOCK_STATES.index(int(state)) + 1
        more = [STOCK_STATES[following], None] if following < len(STOCK_STATES) else None
        return Page(result.records, more)

    # -- what changed (crm-cli pull) ----------------------------------------------------

    max_change_age = MAX_CHANGE_RANGE

    def filters_changes(self, entity: str) -> bool:
        return True  # dataAlteracaoInicial on contatos, produtos and pedidos de venda

    def changes(self, entity: str, since: dt.datetime, page: Any = None) -> Page:
        """The records changed since ``since``: ``dataAlteracaoInicial`` in the account's
        time, with the "all" criterion (LIST_CRITERIA), page by page."""
        local = since.astimezone(self.record_zone).strftime(CHANGED)
        return self.listar(entity, page, {"dataAlteracaoInicial": local})

    def lists_whole(self, entity: str) -> bool:
        return False  # list items hold a few fields (LIST_FIELDS of the OpenAPI)

    def complete(self, entity: str, record: dict[str, Any]) -> dict[str, Any]:
        """The whole record: a list item holds only a few of its fields."""
        return self.buscar(entity, self.external_id(record))

    def atualizar(self, entity: str, record_id: str, payload: Mapping[str, Any]) -> dict:
        body = self.outgoing(entity, "atualizar", dict(payload))
        data = self.call(entity, "atualizar", record_id=record_id, json=body)
        # PUT /contatos answers 204 and no body; PUT /produtos and /pedidos/vendas
        # 200 with {data: {id, …}}
        return {**body, **(data if isinstance(data, dict) else {}), "id": record_id}

    def outgoing(self, entity: str, operation: str, payload: dict[str, Any]) -> dict[str, Any]:
        """A sale's parcelas are paid the store's way (``configuracoes.forma_pagamento_id``,
        else the account's default payment form): the schema requires one."""
        if entity != "venda":
            return payload
        seller = self.seller(payload)
        if seller is not None:
            payload["vendedor"] = {"id": int(seller)}
        if payload.get("parcelas"):
            forma = self._payment_form()
            for parcela in payload["parcelas"]:
                parcela["formaPagamento"] = {"id": forma}
        return payload

    def _payment_form(self) -> int:
        """The store's payment form, else the account's default (``padrao`` 1 among the
        active ones, GET /formas-pagamentos), asked once per client."""
        forma = self.settings.get("forma_pagamento_id")
        if forma is not None:
            return int(forma)
        if self._default_form is None:
            forms = self.unwrap(self.request("GET", PAYMENT_FORMS, params={"situacao": 1}))
            default = [
                f.get("id") for f in forms or [] if isinstance(f, dict) and f.get("padrao") == 1
            ]
            if not default:
                raise ValidationFailed(
                    "Bling needs a payment form for the sale's parcelas and the account has "
                    "no default one: set configuracoes.forma_pagamento_id (crm-cli config set "
                    "--setting forma_pagamento_id=<id from Bling's Formas de pagamento>)"
                )
            self._default_form = int(default[0])
        return self._default_form

    def incoming(self, entity: str, record: dict[str, Any]) -> dict[str, Any]:
        """A sale's seller, as the ERP's vendedor_id."""
        vendedor = record.get("vendedor")
        if entity == "venda" and isinstance(vendedor, Mapping):
            seller = self.erp_seller(vendedor.get("id"))
            if seller is not None:
                record = {**record, SELLER: seller}
        return record

    def ping(self) -> None:
        self.listar("cliente", params={"limite": 1})  # criterio 1: the "all" list's first


def _lifetime(expires_in: Any) -> float:
    """The access token's seconds to live. Bling has rotated the refresh token by now:
    an unusable ``expires_in`` ("abc", -1, inf) must not lose the answer, so the
    documented 6 h stand in for it (a token that dies sooner is refreshed on its 401)."""
    try:
        seconds = float(expires_in)
    except (TypeError, ValueError):
        return TOKEN_LIFETIME
    return (
        seconds if math.isfinite(seconds) and 0 < seconds <= 10 * TOKEN_LIFETIME else TOKEN_LIFETIME
    )


def _json_or_none(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _error_type(body: Any) -> str:
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return str(error.get("type") or "")
    return str(error or "")


def _error_detail(body: Any) -> str:
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return ""
    detail = f"{error.get('type', '')}: {error.get('description') or error.get('message') or ''}"
    fields = error.get("fields")
    if isinstance(fields, list) and fields:
        detail += (
            " (" + "; ".join(str(f.get("msg", f)) for f in fields[:3] if isinstance(f, dict)) + ")"
        )
    return detail[:300]
