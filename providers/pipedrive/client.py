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
  work is writes: the account waits too, until midnight UTC: the allowance
  counts requests "during the ongoing day (calculated in UTC)"
  (pipedrive.readme.io/docs/core-api-concepts-rate-limiting, fair usage).
The token budget resets at midnight of the company's day
(``configuracoes.company_time_zone``, default the ERP's ``app_time_zone``).
Search endpoints have their own burst of 10 requests per 2 s; crm-cli searches
only to find a record a crashed attempt may have created, and a 429 there
pauses the account like any other.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

import requests

from crm_cli import http
from crm_cli.errors import UnexpectedAnswer, ValidationFailed
from crm_cli.providers.client import BaseClient, Page
from crm_cli.providers.fields import SELLER
from crm_cli.providers.pipedrive.config import SEARCH
from crm_cli.providers.pipedrive.handlers.atividade import due_in_local, due_in_utc
from crm_cli.providers.pipedrive.handlers.venda import DISCOUNT, FREIGHT

PAGE_SIZE = 100
DEAL_PRODUCTS = "/api/v2/deals/{id}/products"
DEALS_PRODUCTS = "/api/v2/deals/products"  # of several deals (deal_ids: at most 100)
DEAL_DISCOUNTS = "/api/v2/deals/{id}/discounts"
# products per POST /deals/{id}/products/bulk, and ids per DELETE (OpenAPI v2)
BULK_PRODUCTS = 100
PRODUCTS_PAGE = 500  # the most GET /deals/{id}/products answers at once
# Spent, no more writes today: until the company's midnight (tokens), or UTC's
# (the fair-use allowance; see the module's docstring).
TOKENS_LEFT = "x-daily-ratelimit-token-remaining"
WRITES_LEFT = "x-daily-requests-left"
DISCOUNT_NAME = "Desconto"  # the deal discount that carries the sale's
# The lists that take updated_since (OpenAPI v2: persons, deals, activities)
UPDATED_SINCE = ("cliente", "venda", "atividade")


def _number_header(response: requests.Response, name: str) -> float | None:
    """A header's number (None: absent or not a number; "inf" and "1e999" are
    infinite, and callers cap them)."""
    value = response.headers.get(name)
    try:
        number = float(value) if value not in (None, "") else None
    except ValueError:
        return None
    return None if number is not None and math.isnan(number) else number


def _reset(response: requests.Response) -> float | None:
    """Seconds until the burst window resets (x-ratelimit-reset), at most
    BURST_RESET_MAX: a larger value (a gateway's epoch) is not a 2-second window."""
    reset = _number_header(response, "x-ratelimit-reset")
    return http.capped(reset, http.BURST_RESET_MAX) if reset is not None else None


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

    def _daily_wait(self, response: requests.Response) -> float | None:
        """Seconds until a spent daily budget resets (None: none is spent)."""
        waits = []
        if _number_header(response, TOKENS_LEFT) == 0:
            waits.append(http.until_midnight(self.company_zone))
        if _number_header(response, WRITES_LEFT) == 0:
            waits.append(http.until_midnight(ZoneInfo("UTC")))
        return max(waits) if waits else None

    def observe(self, response: requests.Response) -> None:
        daily = self._daily_wait(response)
        if daily is not None:
            self.pacer.pause(daily)
        elif _number_header(response, "x-ratelimit-remaining") == 0:
            self.pacer.pause(_reset(response) or 1.0)

    def retry_after_of(self, response: requests.Response) -> float | None:
        daily = self._daily_wait(response)
        if daily is not None:
            return daily
        return http.retry_after(response) or _reset(response) or None

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

    # -- a deal's products and discount: the sale's items, freight and discount ---------

    def criar(self, entity: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        if entity != "venda":
            return super().criar(entity, payload)
        deal, products, discount = self._deal_parts(payload, "criar")
        created = self._record(self.call(entity, "criar", json=deal))
        deal_id = self.external_id(created)
        if products:
            self._attach(deal_id, products)
        if discount:
            self._discount_to(deal_id, discount, current=[])
        return created

    def atualizar(self, entity: str, record_id: str, payload: Mapping[str, Any]) -> dict:
        if entity != "venda":
            return super().atualizar(entity, record_id, payload)
        deal, products, discount = self._deal_parts(payload, "atualizar")
        updated = self._record(self.call(entity, "atualizar", record_id=record_id, json=deal))
        if products is not None:
            self._replace_products(record_id, products)
            self._discount_to(record_id, discount)
        return updated

    def buscar(self, entity: str, record_id: str) -> dict[str, Any]:
        record = super().buscar(entity, record_id)
        return self.complete(entity, record)

    # -- what changed (crm-cli pull) ----------------------------------------------------

    def filters_changes(self, entity: str) -> bool:
        return True  # updated_since, or products newest first (changes)

    def changes(self, entity: str, since: dt.datetime, page: Any = None) -> Page:
        """Persons, deals and activities: ``updated_since``, oldest change first. The
        next page starts at the last change read (a keyset: a record changed during the
        read moves past it and none shifts into a page already read); records of one
        instant that fill pages are followed by cursor. Products take no
        ``updated_since`` (OpenAPI v2): newest first, until one older than ``since``."""
        if entity not in UPDATED_SINCE:
            return self._newest_first(entity, since, page)
        position = page if isinstance(page, dict) else {}
        start = str(position.get("since") or _rfc3339(since))
        params = {"updated_since": start, "sort_by": "update_time", "sort_direction": "asc"}
        result = self.listar(entity, position.get("cursor"), params)
        if result.next is None or not result.records:
            return Page(result.records, None)
        last = str(result.records[-1].get("update_time") or "")
        if last and last != str(result.records[0].get("update_time") or ""):
            return Page(result.records, {"since": last})
        return Page(result.records, {"since": start, "cursor": result.next})

    def _newest_first(self, entity: str, since: dt.datetime, page: Any) -> Page:
        result = self.listar(entity, page, {"sort_by": "update_time", "sort_direction": "desc"})
        fresh = [r for r in result.records if (_instant(r.get("update_time")) or since) >= since]
        return Page(fresh, result.next if len(fresh) == len(result.records) else None)

    def complete(self, entity: str, record: dict[str, Any]) -> dict[str, Any]:
        """A deal with its products, its freight line apart (one request more)."""
        if entity != "venda":
            return record
        return self._with_products(record, self._products_of(self.external_id(record)))

    def complete_many(self, entity: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Deals with their products: GET /deals/products for 100 deals at a time."""
        if entity != "venda" or not records:
            return super().complete_many(entity, records)
        attached: dict[str, list[dict[str, Any]]] = {}
        ids = [self.external_id(record) for record in records]
        for start in range(0, len(ids), BULK_PRODUCTS):
            # an array parameter, OpenAPI's default form: deal_ids=1&deal_ids=2
            chunk = [int(i) for i in ids[start : start + BULK_PRODUCTS]]
            for product in self._pages(DEALS_PRODUCTS, {"deal_ids": chunk}):
                attached.setdefault(str(product.get("deal_id")), []).append(product)
        return [
            self._with_products(r, attached.get(i, [])) for r, i in zip(records, ids, strict=True)
        ]

    def _with_products(self, record: dict[str, Any], attached: list[dict]) -> dict[str, Any]:
        freight_id = self._freight_product()
        freight = [p for p in attached if freight_id and str(p.get("product_id")) == freight_id]
        return {
            **record,
            "products": [p for p in attached if p not in freight],
            FREIGHT: sum(float(p.get("sum") or 0) for p in freight),
        }

    def _deal_parts(self, payload: Mapping[str, Any], operation: str) -> tuple[dict, Any, float]:
        """The deal's own fields, its products (None: none to set; freight among them
        as a line of the store's freight product) and its discount."""
        deal = self.outgoing("venda", operation, dict(payload))
        products = deal.pop("_products", None)
        freight = float(deal.pop(FREIGHT, 0) or 0)
        discount = float(deal.pop(DISCOUNT, 0) or 0)
        if products is not None and freight:
            products = [*products, self._freight_line(freight)]
        return deal, products, discount

    def _freight_product(self) -> str | None:
        value = self.settings.get("freight_product_id")
        return str(value) if value not in (None, "") else None

    def _freight_line(self, freight: float) -> dict[str, Any]:
        product = self._freight_product()
        if product is None:
            raise ValidationFailed(
                f"the sale has freight ({freight:.2f}) and a Pipedrive deal holds it only as "
                "a product line: set configuracoes.freight_product_id to the Pipedrive "
                "product for freight (crm-cli config set --setting freight_product_id=<id>)"
            )
        return {
            "product_id": int(product),
            "item_price": freight,
            "quantity": 1,
            "discount": 0,
            "discount_type": "amount",
        }

    def _products_of(self, deal_id: str) -> list[dict[str, Any]]:
        """Every product attached to the deal, page by page."""
        return self._pages(DEAL_PRODUCTS.format(id=deal_id), {})

    def _pages(self, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Every item of a cursor-paged list of deal products."""
        found: list[dict[str, Any]] = []
        cursor = None
        while True:
            query = {**params, "limit": PRODUCTS_PAGE, **({"cursor": cursor} if cursor else {})}
            body = self.unwrap_body(self.request("GET", path, params=query))
            found += [p for p in self.data_of(body) or [] if isinstance(p, dict)]
            following = self.next_page(body, cursor)
            if following is None or following == cursor:
                return found
            cursor = following

    def _replace_products(self, deal_id: str, products: list[dict[str, Any]]) -> None:
        """The deal's products become ``products`` (a sale's items have no identity of
        their own that a deal product could keep): unchanged lines cost no write."""
        attached = self._products_of(deal_id)
        if [_line_key(p) for p in attached] == [_line_key(p) for p in products]:
            return
        ids = [str(p["id"]) for p in attached]
        path = DEAL_PRODUCTS.format(id=deal_id)
        for start in range(0, len(ids), BULK_PRODUCTS):
            chunk = ",".join(ids[start : start + BULK_PRODUCTS])
            self.unwrap(self.request("DELETE", path, params={"ids": chunk}))
        if products:
            self._attach(deal_id, products)

    def _attach(self, deal_id: str, products: list[dict[str, Any]]) -> None:
        path = DEAL_PRODUCTS.format(id=deal_id) + "/bulk"
        for start in range(0, len(products), BULK_PRODUCTS):
            chunk = products[start : start + BULK_PRODUCTS]
            self.unwrap(self.request("POST", path, json={"data": chunk}))

    def _discount_to(self, deal_id: str, amount: float, current: list | None = None) -> None:
        """The deal's discounts become one amount (none when 0); ``current``: the deal's
        discounts when known (a new deal has none)."""
        path = DEAL_DISCOUNTS.format(id=deal_id)
        if current is None:
            current = self.unwrap(self.request("GET", path))
        current = [d for d in current or [] if isinstance(d, dict)]
        wanted = round(amount, 6)  # the fraction of a cent that rounding left (handler)
        if wanted and [(d.get("type"), d.get("amount")) for d in current] == [("amount", wanted)]:
            return
        for discount in current:
            self.unwrap(self.request("DELETE", f"{path}/{discount['id']}"))
        if wanted > 0:
            body = {"description": DISCOUNT_NAME, "amount": wanted, "type": "amount"}
            self.unwrap(self.request("POST", path, json=body))

    def ping(self) -> None:
        self.listar("cliente", params={"limit": 1})


def _rfc3339(when: dt.datetime) -> str:
    return when.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _instant(value: Any) -> dt.datetime | None:
    """A v2 timestamp (RFC 3339, UTC) as an instant; None when absent or unreadable."""
    try:
        when = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)


def _line_key(product: Mapping[str, Any]) -> tuple:
    """What makes two deal products the same line, as numbers."""
    numbers = ("product_id", "item_price", "quantity", "discount")
    return (
        *(round(float(product.get(k) or 0), 6) for k in numbers),
        product.get("discount_type", "amount"),
    )
