"""A Pipedrive API on loopback, written from the API facts (provider-apis.md §2):
v2 persons/products/deals/activities with cursor pages and PATCH, the search
endpoints (``items[].item``), v1 lists with offset pages, the ``x-api-token``
header (or the api_token query parameter), the success/error envelopes,
the ``x-ratelimit-*`` headers of a 2-second burst window and the daily budget
header, and 429 when either is spent.

Stricter, as the docs and the official v2 SDK (pipedrive/client-nodejs) say:
v2 refuses strings where it wants numbers (ids, values, prices); a deal's
``person_id`` must be a person that exists; the daily budget comes as tokens
(``x-daily-ratelimit-token-limit/-remaining``, every request; ``daily``), and
apart from it the fair-use allowance of POST/PUT/PATCH (``x-daily-requests-left``;
``daily_writes``); ``token_headers=False`` leaves the token headers out, as
accounts without the token model answer. Search endpoints (``/{type}/search``
and ``/api/v2/itemSearch``) have their own burst: 10 per 2 s.

As Pipedrive's OpenAPI v2 (amp-labs/connectors providers/pipedrive/openapi/v2.yaml
at 6de2e9bbd) says: a deal with products is worth what they are, less its
discounts (``/deals/{id}/discounts``: "changing the deal value if the deal has
one-time products attached"), whatever ``value`` a client sends; a deal's
products page with a cursor (500 at most), change one by one (PATCH/DELETE
``/deals/{id}/products/{product_attachment_id}``), are listed across deals
(``GET /deals/products?deal_ids=``), and go 100 at most per bulk POST or
DELETE (``ids``; without it, the first 100), whose answer says whether more
are left (``additional_data.more_items_in_collection``). Activities take a
``person_id`` and any type key (an account defines its own types), and read
their participants back with ``primary``. Lists honour ``updated_since``,
``updated_until``, ``sort_by`` and ``sort_direction``; searches look in every
field the endpoint documents unless ``fields`` names some, and refuse others.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
import time
import uuid
from typing import Any, ClassVar

from crm_cli.providers.emulator import (
    BaseEmulator,
    Reply,
    Request,
    is_number,
    retry_after_header,
)

RESOURCES = {"persons": "name", "products": "name", "deals": "title", "activities": "subject"}
# An ActivityType key: Pipedrive's defaults (call, meeting, …) or an account's own
ACTIVITY_TYPE = re.compile(r"[a-z0-9_]+")
# The fields each search endpoint looks in (the OpenAPI's ``fields`` enum), and the
# record key each reads
SEARCH_FIELDS = {
    "deals": {"title": "title", "notes": "notes", "custom_fields": "custom_fields"},
    "persons": {
        "name": "name",
        "email": "emails",
        "phone": "phones",
        "notes": "notes",
        "custom_fields": "custom_fields",
    },
    "products": {"name": "name", "code": "code", "custom_fields": "custom_fields"},
}
SORTS = ("id", "update_time", "add_time")
BULK = 100  # deal products per bulk POST or DELETE
SEARCH_BURST = 10  # search requests per rolling 2 s, on every plan
WRITES = ("POST", "PUT", "PATCH")
# v2 fields that are integers or numbers: a string is refused (v2 is strict)
NUMBERS = {
    "persons": ("owner_id", "org_id"),
    "products": ("owner_id", "tax"),
    "deals": ("owner_id", "person_id", "org_id", "pipeline_id", "stage_id", "value"),
    "activities": ("owner_id", "deal_id", "org_id"),  # duration is "HH:MM" text
}
ITEM_TYPES = {"person": "persons", "product": "products", "deal": "deals"}


def _error(status: int, message: str, info: str = "") -> Reply:
    return Reply(
        status,
        {
            "success": False,
            "error": message,
            "error_info": info,
            "errorCode": status,
            "data": None,
            "additional_data": None,
        },
    )


def _values(items: Any) -> list[str]:
    if not isinstance(items, list):
        return []
    return [str(i.get("value") if isinstance(i, dict) else i) for i in items]


def _refused_activity(body: dict[str, Any]) -> Reply | None:
    """What API v2 refuses in an activity's body (provider-apis.md §2)."""
    if "type" in body and not ACTIVITY_TYPE.fullmatch(str(body["type"] or "")):
        return _error(400, f"Invalid activity type '{body['type']}'", "ERR_BAD_REQUEST")
    if body.get("person_id") is not None and not is_number(body["person_id"]):
        return _error(400, "person_id must be an integer", "ERR_SCHEMA_VALIDATION_FAILED")
    due_time = body.get("due_time")
    if due_time is not None and not re.fullmatch(r"\d\d:\d\d", str(due_time)):
        return _error(400, "due_time must be HH:MM (UTC)", "ERR_BAD_REQUEST")
    for participant in body.get("participants") or []:
        if not isinstance(participant, dict) or not isinstance(participant.get("person_id"), int):
            return _error(400, "participants[].person_id must be an integer", "ERR_BAD_REQUEST")
    return None


def _wrong_type(resource: str, body: dict[str, Any]) -> Reply | None:
    names = [n for n in NUMBERS[resource] if n in body and body[n] is not None]
    for price in body.get("prices") or [] if resource == "products" else []:
        if not isinstance(price, dict) or any(
            not is_number(price.get(k)) for k in ("price", "cost") if k in price
        ):
            return _error(400, "prices[].price must be a number", "ERR_SCHEMA_VALIDATION_FAILED")
    for name in names:
        if not is_number(body[name]):
            return _error(
                400,
                f"Validation failed: {name}: Parameter '{name}' must be a number",
                "ERR_SCHEMA_VALIDATION_FAILED",
            )
    return None


def _as_stored(resource: str, body: dict[str, Any]) -> dict[str, Any]:
    """The record as GET shows it: an activity's primary participant is its person_id."""
    # a field sent as null is not set: the answer leaves it out (OpenAPI v2: not nullable)
    stored = {k: v for k, v in body.items() if k != "id" and v is not None}
    if resource == "activities" and "participants" in stored:
        stored["participants"] = [
            {"person_id": p["person_id"], "primary": bool(p.get("primary"))}
            for p in stored["participants"]
        ]
        primary = [p["person_id"] for p in stored["participants"] if p["primary"]]
        stored["person_id"] = primary[0] if primary else stored.get("person_id")
    return stored


def _utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _cursor(start: int, limit: int, total: int) -> str | None:
    following = start + limit
    return base64.b64encode(str(following).encode()).decode() if following < total else None


def _paged(request: Request, items: list[dict[str, Any]], most: int = 500) -> Reply:
    """A cursor page of ``items`` (``limit``: 100 unless asked, ``most`` at most)."""
    try:
        limit = min(most, max(1, int(request.query.get("limit", 100))))
        cursor = request.query.get("cursor")
        start = int(base64.b64decode(cursor).decode()) if cursor else 0
    except (ValueError, UnicodeDecodeError):
        return _error(400, "Invalid cursor or limit")
    return Reply(
        200,
        {
            "success": True,
            "data": items[start : start + limit],
            "additional_data": {"next_cursor": _cursor(start, limit, len(items))},
        },
    )


class PipedriveEmulator(BaseEmulator):
    name = "pipedrive"
    CREDENTIALS: ClassVar[dict[str, str]] = {"api_token": "demo-api-token"}
    OPTIONS: ClassVar[dict[str, type]] = {"daily_writes": int}

    def __init__(self, *args: Any, daily_writes: int | None = None, **kwargs: Any) -> None:
        # daily_writes: the POST/PUT fair-use allowance (None: none);
        # token_headers False: answer without the token-budget headers
        super().__init__(*args, daily_writes=daily_writes, token_headers=True, **kwargs)

    def reset(self) -> None:
        super().reset()
        with self.lock:
            self.writes_today = 0
            self._searches: list[float] = []

    def authorized(self, request: Request) -> bool:
        # Pipedrive takes the token in the x-api-token header or, as official
        # clients did until 2025, in the api_token query parameter. crm-cli sends
        # it in the header only (URLs end up in logs): the counter tells a test.
        if "api_token" in request.query:
            with self.lock:
                self.counters["token_in_query"] += 1
            return request.query["api_token"] == self.credentials["api_token"]
        return request.headers.get("x-api-token") == self.credentials["api_token"]

    def unauthorized(self) -> Reply:
        return _error(401, "unauthorized access", "Please check developers.pipedrive.com")

    def too_many(self, retry_after: float | str | None = None) -> Reply:
        reply = _error(429, "Rate limit exceeded", "Too many requests")
        if retry_after is not None:
            reply.headers["Retry-After"] = retry_after_header(retry_after)
        return reply

    def server_error(self) -> Reply:
        return _error(500, "Internal server error")

    def finish(self, reply: Reply) -> Reply:
        if self.rate:
            burst = int(self.rate * 2)  # a rolling 2-second window
            reply.headers.setdefault("x-ratelimit-limit", str(burst))
            reply.headers.setdefault(
                "x-ratelimit-remaining", str(max(0, burst - self.burst_count()))
            )
            reply.headers.setdefault("x-ratelimit-reset", "2")
        if self.daily and self.token_headers:
            reply.headers["x-daily-ratelimit-token-limit"] = str(self.daily)
            left = max(0, self.daily - self.day_count())
            reply.headers["x-daily-ratelimit-token-remaining"] = str(left)
        if self.daily_writes is not None:
            left = max(0, self.daily_writes - self.writes_today)
            reply.headers["x-daily-requests-left"] = str(left)
        return reply

    def _over_allowance(self, request: Request) -> Reply | None:
        """429 for a write past the fair-use allowance, or a search past its burst."""
        with self.lock:
            if request.method in WRITES and self.daily_writes is not None:
                self.writes_today += 1
                if self.writes_today > self.daily_writes:
                    return self.too_many()
            if request.method == "GET" and _is_search(request.path):
                now = time.monotonic()
                self._searches = [t for t in self._searches if now - t < 2.0] + [now]
                if len(self._searches) > SEARCH_BURST:
                    self.counters["search_429"] += 1
                    return self.too_many()
        return None

    # -- routing ------------------------------------------------------------------------

    def route(self, request: Request) -> Reply:
        refused = self._over_allowance(request)
        if refused is not None:
            return refused
        parts = request.path.strip("/").split("/")
        if parts[:3] == ["api", "v2", "itemSearch"] and len(parts) == 3:
            return (
                self._item_search(request)
                if request.method == "GET"
                else (_error(405, "Method not allowed"))
            )
        if parts[:2] == ["api", "v2"]:
            return self._v2(request, parts[2:])
        v1_list = parts[:1] == ["v1"] and len(parts) == 2 and parts[1] in RESOURCES
        if v1_list and request.method == "GET":
            return self._v1_list(parts[1], request)
        return _error(404, "Unknown method .")

    def _v2(self, request: Request, parts: list[str]) -> Reply:
        if parts == ["deals", "products"] and request.method == "GET":
            return self._products_of_deals(request)
        if parts[:1] == ["deals"] and len(parts) in (3, 4) and parts[2] == "products":
            return self._deal_products(request, parts[1], parts[3:])
        if parts[:1] == ["deals"] and len(parts) in (3, 4) and parts[2] == "discounts":
            return self._discounts(request, parts[1], parts[3:])
        if not parts or parts[0] not in RESOURCES or len(parts) > 2:
            return _error(404, "Unknown method .")
        resource = parts[0]
        if len(parts) == 2 and parts[1] == "search":
            return (
                self._search(resource, request)
                if request.method == "GET"
                else (_error(405, "Method not allowed"))
            )
        record_id = parts[1] if len(parts) == 2 else None
        return self.crud(request, resource, record_id, update="PATCH") or _error(
            405, "Method not allowed"
        )

    # -- a deal's products (DealProductsApi: GET/POST/DELETE /deals/{id}/products, POST
    #    /deals/{id}/products/bulk with {data: [...]}, PATCH/DELETE
    #    /deals/{id}/products/{product_attachment_id}, GET /deals/products) ----------------

    def _attached(self, deal_id: str) -> list[dict[str, Any]]:
        return [p for p in self._sorted("deal_products") if str(p["deal_id"]) == deal_id]

    def _deal_products(self, request: Request, deal_id: str, rest: list[str]) -> Reply:
        if deal_id not in self.records["deals"]:
            return _error(404, "Deal not found")
        if rest and rest != ["bulk"]:
            return self._deal_product(request, deal_id, rest[0])
        bulk = rest == ["bulk"]
        if request.method == "GET" and not bulk:
            return _paged(request, self._attached(deal_id))
        if request.method == "DELETE" and not bulk:
            return self._detach(deal_id, request.query.get("ids"))
        if request.method == "POST":
            body = request.body if isinstance(request.body, dict) else {}
            products = body.get("data") if bulk else [body]
            if not isinstance(products, list) or not 0 < len(products) <= BULK:
                return _error(400, "data must hold 1 to 100 products", "ERR_BAD_REQUEST")
            refused = next((r for r in map(self._refused_deal_product, products) if r), None)
            if refused is not None:
                return refused
            attached = [self._attach(deal_id, p) for p in products]
            self._revalue(deal_id)
            return Reply(201, {"success": True, "data": attached if bulk else attached[0]})
        return _error(405, "Method not allowed")

    def _deal_product(self, request: Request, deal_id: str, attachment: str) -> Reply:
        with self.lock:
            current = self.records["deal_products"].get(attachment)
        if current is None or str(current["deal_id"]) != deal_id:
            return _error(404, "Deal product not found")
        if request.method == "DELETE":
            with self.lock:
                del self.records["deal_products"][attachment]
            self._revalue(deal_id)
            return Reply(200, {"success": True, "data": {"id": int(attachment)}})
        if request.method != "PATCH" or not isinstance(request.body, dict):
            return _error(405, "Method not allowed")
        changed = {**current, **request.body}
        refused = self._refused_deal_product(changed)
        if refused is not None:
            return refused
        with self.lock:
            self.records["deal_products"][attachment] = {
                **changed,
                "sum": _product_sum(changed),
                "update_time": _utc_now(),
            }
        self._revalue(deal_id)
        return Reply(200, {"success": True, "data": self.records["deal_products"][attachment]})

    def _products_of_deals(self, request: Request) -> Reply:
        """GET /deals/products?deal_ids=1&deal_ids=2 (an array: OpenAPI's form style;
        required, at most 100 deals)."""
        given = request.query_all.get("deal_ids", [])
        wanted = [d for value in given for d in value.split(",") if d]
        if not wanted or len(wanted) > 100 or not all(d.isdigit() for d in wanted):
            return _error(400, "deal_ids must hold 1 to 100 deal ids", "ERR_BAD_REQUEST")
        attached = [p for p in self._sorted("deal_products") if str(p["deal_id"]) in wanted]
        return _paged(request, attached)

    def _refused_deal_product(self, product: Any) -> Reply | None:
        if not isinstance(product, dict):
            return _error(400, "Invalid product", "ERR_BAD_REQUEST")
        for name in ("product_id", "item_price", "quantity"):
            if not is_number(product.get(name)):
                return _error(
                    400, f"Parameter '{name}' is required and must be a number", "ERR_BAD_REQUEST"
                )
        if str(product["product_id"]) not in self.records["products"]:
            return _error(400, f"Product with id {product['product_id']} not found")
        if product.get("discount_type", "percentage") not in ("percentage", "amount"):
            return _error(400, "discount_type must be percentage or amount", "ERR_BAD_REQUEST")
        return None

    def _attach(self, deal_id: str, product: dict[str, Any]) -> dict[str, Any]:
        return self.seed(
            "deal_products",
            {
                "discount": 0,
                "discount_type": "percentage",
                **product,
                "deal_id": int(deal_id),
                "sum": _product_sum(product),
            },
        )

    def _detach(self, deal_id: str, ids: str | None) -> Reply:
        wanted = [i for i in (ids or "").split(",") if i]
        if len(wanted) > BULK:
            return _error(400, "A maximum of 100 ids is allowed", "ERR_BAD_REQUEST")
        with self.lock:
            mine = [
                key
                for key, p in sorted(self.records["deal_products"].items(), key=lambda e: int(e[0]))
                if str(p["deal_id"]) == deal_id and (not wanted or key in wanted)
            ]
            gone, left = mine[:BULK], mine[BULK:]
            for key in gone:
                del self.records["deal_products"][key]
        self._revalue(deal_id)
        return Reply(
            200,
            {
                "success": True,
                "data": {"ids": [int(k) for k in gone]},
                "additional_data": {"more_items_in_collection": bool(left) and not wanted},
            },
        )

    # -- a deal's discounts (GET/POST /deals/{id}/discounts, PATCH/DELETE
    #    /deals/{id}/discounts/{discount_id}) ------------------------------------------

    def _discounts(self, request: Request, deal_id: str, rest: list[str]) -> Reply:
        if deal_id not in self.records["deals"]:
            return _error(404, "Deal not found")
        if not rest and request.method == "GET":
            mine = [
                d for d in self.records["deal_discounts"].values() if str(d["deal_id"]) == deal_id
            ]
            return Reply(200, {"success": True, "data": mine})
        if not rest and request.method == "POST":
            refused = _refused_discount(request.body, partial=False)
            if refused is not None:
                return refused
            now = _utc_now()
            discount = {
                "id": str(uuid.uuid4()),
                **{k: request.body[k] for k in ("description", "amount", "type")},
                "deal_id": int(deal_id),
                "created_at": now,
                "created_by": 1,
                "updated_at": now,
                "updated_by": 1,
            }
            with self.lock:
                self.records["deal_discounts"][discount["id"]] = discount
                # DELETE answers a number for it (OpenAPI v2 and the SDK's
                # DeleteAdditionalDiscountResponseData: id, a number)
                self.records["deal_discount_numbers"][discount["id"]] = {
                    "id": self.new_id("deal_discounts")
                }
            self._revalue(deal_id)
            return Reply(201, {"success": True, "data": discount})
        discount = self.records["deal_discounts"].get(rest[0]) if rest else None
        if discount is None or str(discount["deal_id"]) != deal_id:
            return _error(404, "Discount not found")
        if request.method == "DELETE":
            with self.lock:
                del self.records["deal_discounts"][rest[0]]
                number = self.records["deal_discount_numbers"].pop(rest[0])
            self._revalue(deal_id)
            return Reply(200, {"success": True, "data": number})
        if request.method == "PATCH":
            refused = _refused_discount(request.body, partial=True)
            if refused is not None:
                return refused
            with self.lock:
                discount.update(request.body, updated_at=_utc_now())
            self._revalue(deal_id)
            return Reply(200, {"success": True, "data": discount})
        return _error(405, "Method not allowed")

    def _revalue(self, deal_id: str) -> None:
        """A deal with products is worth their sums less its discounts (Pipedrive
        computes it; what a client sent as ``value`` no longer counts)."""
        products = self._attached(deal_id)
        with self.lock:
            deal = self.records["deals"].get(deal_id)
            if deal is None or not products:
                return
            goods = sum(p["sum"] for p in products)
            off = 0.0
            for discount in self.records["deal_discounts"].values():
                if str(discount["deal_id"]) == deal_id:
                    amount = float(discount["amount"])
                    off += goods * amount / 100 if discount["type"] == "percentage" else amount
            deal["value"] = round(goods - off, 2)

    # -- records -------------------------------------------------------------------------

    def touch(self, resource: str, record: dict[str, Any], when: dt.datetime | None = None) -> None:
        when = when or dt.datetime.now(dt.timezone.utc)
        record["update_time"] = when.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    def seed(self, resource: str, record: dict[str, Any]) -> dict[str, Any]:
        now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        with self.lock:
            stored = {
                **record,
                "id": int(record.get("id") or self.new_id(resource)),
                "add_time": now,
                "update_time": now,
            }
            self.records[resource][str(stored["id"])] = stored
            return stored

    def _create(self, resource: str, body: Any) -> Reply:
        required = RESOURCES[resource]
        if not isinstance(body, dict) or not str(body.get(required) or "").strip():
            return _error(400, f"Parameter '{required}' is required", "Check the request body")
        refused = self._refused(resource, body)
        if refused is not None:
            return refused
        stored = self.seed(resource, _as_stored(resource, body))
        self.count_create(resource)
        # OpenAPI v2: addProduct answers 201, addPerson, addDeal and addActivity 200
        status = 201 if resource == "products" else 200
        return Reply(status, {"success": True, "data": stored, "additional_data": {}})

    def _refused(self, resource: str, body: dict[str, Any]) -> Reply | None:
        refused = _wrong_type(resource, body)
        if refused is None and resource == "activities":
            refused = _refused_activity(body)
        person = body.get("person_id") if resource == "deals" else None
        if refused is None and person is not None and str(person) not in self.records["persons"]:
            refused = _error(400, f"Person with id {person} not found", "ERR_BAD_REQUEST")
        return refused

    def _one(self, resource: str, record_id: str) -> Reply:
        with self.lock:
            record = self.records[resource].get(record_id)
        if record is None:
            return _error(404, f"{resource[:-1].capitalize()} not found")
        return Reply(200, {"success": True, "data": record, "additional_data": {}})

    def _update(self, resource: str, record_id: str, body: Any) -> Reply:
        reply = self._patched(resource, record_id, body)
        if resource == "deals" and reply.status == 200:
            self._revalue(record_id)
            reply = self._one(resource, record_id)
        return reply

    def _patched(self, resource: str, record_id: str, body: Any) -> Reply:
        with self.lock:
            record = self.records[resource].get(record_id)
            if record is None:
                return _error(404, f"{resource[:-1].capitalize()} not found")
            if not isinstance(body, dict):
                return _error(400, "Invalid body")
            refused = self._refused(resource, body)
            if refused is not None:
                return refused
            record.update(_as_stored(resource, body))
            for cleared in [k for k, v in body.items() if v is None]:
                record.pop(cleared, None)
            record["update_time"] = _utc_now()
            self.counters[f"update:{resource}"] += 1
            return Reply(200, {"success": True, "data": dict(record), "additional_data": {}})

    def _delete(self, resource: str, record_id: str) -> Reply:
        with self.lock:
            if self.records[resource].pop(record_id, None) is None:
                return _error(404, f"{resource[:-1].capitalize()} not found")
        return Reply(200, {"success": True, "data": {"id": int(record_id)}})

    def _sorted(self, resource: str) -> list[dict[str, Any]]:
        with self.lock:
            return sorted(self.records[resource].values(), key=lambda r: int(r["id"]))

    def _list(self, resource: str, request: Request) -> Reply:
        """A v2 list: ``updated_since``/``updated_until`` (RFC 3339), ``sort_by`` and
        ``sort_direction``, then a cursor page."""
        query = request.query
        items = self._sorted(resource)
        try:
            since = _instant(query.get("updated_since"))
            until = _instant(query.get("updated_until"))
        except ValueError:
            return _error(400, "updated_since/updated_until must be RFC 3339", "ERR_BAD_REQUEST")
        if since is not None:
            items = [r for r in items if _instant(r["update_time"]) >= since]
        if until is not None:
            items = [r for r in items if _instant(r["update_time"]) < until]
        sort_by = query.get("sort_by", "id")
        direction = query.get("sort_direction", "asc")
        if sort_by not in SORTS or direction not in ("asc", "desc"):
            return _error(400, f"Invalid sort_by or sort_direction: {sort_by} {direction}")
        items.sort(
            key=lambda r: (r.get(sort_by) or "", int(r["id"])) if sort_by != "id" else int(r["id"]),
            reverse=direction == "desc",
        )
        return _paged(request, items)

    def _v1_list(self, resource: str, request: Request) -> Reply:
        try:
            start = max(0, int(request.query.get("start", 0)))
            limit = min(500, max(1, int(request.query.get("limit", 100))))
        except ValueError:
            return _error(400, "Invalid start or limit")
        items = self._sorted(resource)
        more = start + limit < len(items)
        return Reply(
            200,
            {
                "success": True,
                "data": items[start : start + limit],
                "additional_data": {
                    "pagination": {
                        "start": start,
                        "limit": limit,
                        "more_items_in_collection": more,
                        "next_start": start + limit,
                    }
                },
            },
        )

    def _item_search(self, request: Request) -> Reply:
        """GET /api/v2/itemSearch: several item types at once; each hit says its type."""
        wanted = request.query.get("item_types", ",".join(ITEM_TYPES)).split(",")
        items = []
        for kind in wanted:
            if kind not in ITEM_TYPES:
                return _error(400, f"Invalid item_types value '{kind}'", "ERR_BAD_REQUEST")
            found = self._found(ITEM_TYPES[kind], request)
            if isinstance(found, Reply):
                return found
            items += [{**hit, "item": {**hit["item"], "type": kind}} for hit in found]
        return _search_reply(items)

    def _search(self, resource: str, request: Request) -> Reply:
        found = self._found(resource, request)
        return found if isinstance(found, Reply) else _search_reply(found)

    def _found(self, resource: str, request: Request) -> list[dict[str, Any]] | Reply:
        term = request.query.get("term", "")
        exact = request.query.get("exact_match") == "true"
        if len(term) < (1 if exact else 2):
            return _error(400, "term must be at least 2 characters")
        searchable = SEARCH_FIELDS[resource]
        fields = request.query.get("fields", ",".join(searchable)).split(",")
        unknown = [f for f in fields if f not in searchable]
        if unknown:
            return _error(400, f"Invalid fields value '{unknown[0]}'", "ERR_BAD_REQUEST")
        found = []
        for record in self._sorted(resource):
            for field in fields:
                raw = record.get(searchable[field])
                if isinstance(raw, dict):  # custom fields: their values
                    values = [str(v) for v in raw.values() if v is not None]
                else:
                    values = _values(raw) if isinstance(raw, list) else [str(raw or "")]
                hit = any(
                    (v.lower() == term.lower()) if exact else term.lower() in v.lower()
                    for v in values
                )
                if hit:
                    item = dict(record)
                    if "emails" in item:
                        item["emails"] = _values(item["emails"])  # strings in search results
                    if "phones" in item:
                        item["phones"] = _values(item["phones"])
                    found.append({"result_score": 1.0, "item": item})
                    break
        return found


def _search_reply(items: list[dict[str, Any]]) -> Reply:
    return Reply(
        200, {"success": True, "data": {"items": items}, "additional_data": {"next_cursor": None}}
    )


def _is_search(path: str) -> bool:
    parts = path.strip("/").split("/")
    return parts[-1] == "search" or parts[:3] == ["api", "v2", "itemSearch"]


def _product_sum(product: dict[str, Any]) -> float:
    """A deal product's sum: price × quantity less its discount (an amount, or a
    percentage of the two), in cents."""
    gross = float(product["item_price"]) * float(product["quantity"])
    discount = float(product.get("discount") or 0)
    if product.get("discount_type", "percentage") == "percentage":
        discount = gross * discount / 100
    return round(gross - discount, 2)


def _refused_discount(body: Any, partial: bool) -> Reply | None:
    """AddAdditionalDiscountRequestBody: description, amount (positive), type."""
    if not isinstance(body, dict):
        return _error(400, "Invalid body", "ERR_BAD_REQUEST")
    for name in ("description", "amount", "type"):
        if name not in body and not partial:
            return _error(400, f"Parameter '{name}' is required", "ERR_BAD_REQUEST")
    if "amount" in body and (not is_number(body["amount"]) or body["amount"] <= 0):
        return _error(400, "amount must be a positive number (excluding 0)", "ERR_BAD_REQUEST")
    if "type" in body and body["type"] not in ("percentage", "amount"):
        return _error(400, "type must be percentage or amount", "ERR_BAD_REQUEST")
    return None


def _instant(value: Any) -> dt.datetime | None:
    if value in (None, ""):
        return None
    return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
