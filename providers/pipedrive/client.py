"""Pipedrive's client (API v2): ``x-api-token`` header, ``success``/``data`` envelope,
cursor pages, PATCH updates, and its rate-limit headers.

The token goes in a header, never in the query string (URLs end up in logs).
Every answer's rate-limit headers are fed to the account's pacer, so that an
exhausted limit pauses the account before a 429 is ever needed
(pipedrive.readme.io/docs/core-api-concepts-rate-limiting):
- ``x-ratelimit-remaining`` 0: the 2-second burst window is spent; the account
  waits ``x-ratelimit-reset`` seconds.
- ``x-daily-ratelimit-token-remaining`` 0: the company's daily token budget is
  spent (every request costs tokens). These headers may be missing (older
  accounts, OAuth apps): then nothing is assumed.
- ``x-daily-requests-left`` 0: the daily fair-use allowance of POST/PUT
  requests (api_token only) is spent. Reads would still work, but the queue's
  work is writes: the account waits too.
Daily budgets reset at midnight of the company's day, not UTC
(``configuracoes.company_time_zone``, default the ERP's ``app_time_zone``).
Search endpoints have their own burst of 10 requests per 2 s; crm-cli searches
only to find a record a crashed attempt may have created, and a 429 there
pauses the account like any other.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

import requests

from crm_cli import http
from crm_cli.errors import UnexpectedAnswer
from crm_cli.providers.client import BaseClient
from crm_cli.providers.fields import SELLER
from crm_cli.providers.pipedrive.config import SEARCH
from crm_cli.providers.pipedrive.handlers.atividade import due_in_local, due_in_utc

PAGE_SIZE = 100
DEAL_PRODUCTS = "/api/v2/deals/{id}/products"
BULK_PRODUCTS = 100  # products per POST /deals/{id}/products/bulk
# Either spent means: no more writes today (see the module's docstring).
DAILY_HEADERS = ("x-daily-ratelimit-token-remaining", "x-daily-requests-left")


def _int_header(response: requests.Response, name: str) -> int | None:
    value = response.headers.get(name)
    try:
        return int(float(value)) if value not in (None, "") else None
    except ValueError:
        return None


class PipedriveClient(BaseClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        domain = self.settings.get("company_domain") or self.credentials.get("company_domain")
        if domain and not self.settings.get("api_base_url"):
            self.base_url = f"https://{domain}.pipedrive.com"
        zone = self.settings.get("company_time_zone")
        self.company_zone = ZoneInfo(str(zone)) if zone else self.erp_zone

    def auth_headers(self) -> dict[str, str]:
        return {"x-api-token": str(self.credentials["api_token"])}

    def observe(self, response: requests.Response) -> None:
        if any(_int_header(response, h) == 0 for h in DAILY_HEADERS):
            self.pacer.pause(http.until_midnight(self.company_zone))
        elif _int_header(response, "x-ratelimit-remaining") == 0:
            self.pacer.pause(float(_int_header(response, "x-ratelimit-reset") or 1))

    def retry_after_of(self, response: requests.Response) -> float | None:
        if any(_int_header(response, h) == 0 for h in DAILY_HEADERS):
            return http.until_midnight(self.company_zone)
        reset = _int_header(response, "x-ratelimit-reset")
        return http.retry_after(response) or (float(reset) if reset else None)

    def unwrap_body(self, response: requests.Response) -> Any:
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code < 300:
            if not isinstance(body, dict) or body.get("success") is not True:
                where = http.where(response.request.method or "?", response.request.url or "")
                raise UnexpectedAnswer(f"{where}: answer is not Pipedrive's success envelope")
            return body
        detail = ""
        if isinstance(body, dict):
            detail = str(body.get("error") or "")
            if body.get("error_info"):
                detail += f" ({body['error_info']})"
        http.raise_for_status(response, detail[:300])
        return body  # not reached

    def data_of(self, body: Any) -> Any:
        return body.get("data")

    def page_params(self, page: Any) -> dict[str, Any]:
        return {"limit": PAGE_SIZE, **({"cursor": page} if page else {})}

    def next_page(self, body: Any, page: Any) -> Any:
        extra = body.get("additional_data") if isinstance(body, dict) else None
        return (extra or {}).get("next_cursor") or None

    def outgoing(self, entity: str, operation: str, payload: dict[str, Any]) -> dict[str, Any]:
        """The document goes to the store's custom field, when it names one; an activity's
        local due date and time go in UTC."""
        if entity == "atividade" and payload.get("due_date") and payload.get("due_time"):
            payload["due_date"], payload["due_time"] = due_in_utc(
                payload["due_date"], payload["due_time"], self.erp_zone
            )
        if entity == "venda":
            seller = self.seller(payload)
            if seller is not None:
                payload["owner_id"] = int(seller)
        document = payload.pop("_document", None)
        field = self.settings.get("document_field")
        if document and field:
            payload["custom_fields"] = {**payload.get("custom_fields", {}), str(field): document}
        return payload

    def incoming(self, entity: str, record: dict[str, Any]) -> dict[str, Any]:
        """An activity's UTC due date and time, as the ERP's local ones; a deal's owner,
        as the ERP's seller."""
        if entity == "venda" and self.erp_seller(record.get("owner_id")) is not None:
            record = {**record, SELLER: self.erp_seller(record.get("owner_id"))}
        if entity == "atividade" and record.get("due_date") and record.get("due_time"):
            record = dict(record)
            record["due_date"], record["due_time"] = due_in_local(
                record["due_date"], record["due_time"], self.erp_zone
            )
        return record

    def matching(self, entity: str, row: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Natural keys are found through the search endpoints (e-mail, code, title)."""
        handler = self.entity(entity).load_handler()
        params = handler.lookup_params(row)
        path = SEARCH.get(entity)
        if not params or path is None:
            return []
        data = self.unwrap(self.request("GET", path, params={**params, "limit": PAGE_SIZE}))
        items = (data or {}).get("items") if isinstance(data, dict) else None
        found = [entry.get("item") for entry in items or [] if isinstance(entry, dict)]
        return [item for item in found if isinstance(item, dict) and handler.matches(item, row)]

    # -- a deal's products: the sale's items (DealProductsApi, API v2) ------------------

    def criar(self, entity: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        deal, products = _split_products(entity, payload)
        created = super().criar(entity, deal)
        if products:
            self._attach(self.external_id(created), products)
        return created

    def atualizar(self, entity: str, record_id: str, payload: Mapping[str, Any]) -> dict:
        deal, products = _split_products(entity, payload)
        updated = super().atualizar(entity, record_id, deal)
        if products is not None:
            # replaced whole: a sale's items have no identity of their own in the
            # ERP that a deal product could keep
            self.unwrap(self.request("DELETE", DEAL_PRODUCTS.format(id=record_id)))
            if products:
                self._attach(record_id, products)
        return updated

    def buscar(self, entity: str, record_id: str) -> dict[str, Any]:
        record = super().buscar(entity, record_id)
        if entity == "venda":
            path = DEAL_PRODUCTS.format(id=record_id)
            attached = self.unwrap(self.request("GET", path, params={"limit": 500}))
            record = {**record, "products": attached if isinstance(attached, list) else []}
        return record

    def _attach(self, deal_id: str, products: list[dict[str, Any]]) -> None:
        path = DEAL_PRODUCTS.format(id=deal_id) + "/bulk"
        for start in range(0, len(products), BULK_PRODUCTS):
            chunk = products[start : start + BULK_PRODUCTS]
            self.unwrap(self.request("POST", path, json={"data": chunk}))

    def ping(self) -> None:
        self.listar("cliente", params={"limit": 1})


def _split_products(entity: str, payload: Mapping[str, Any]) -> tuple[dict, list | None]:
    """A deal's own fields, and its products (None: the handler sent none to set)."""
    deal = dict(payload)
    products = deal.pop("_products", None) if entity == "venda" else None
    return deal, products
