"""A GestãoClick API on loopback, written from the API facts (provider-apis.md §1),
not from our client: both host prefixes (with and without /api), the two auth
headers (also with underscores), the code/status/meta/data envelope with the
union of both meta variants, ``pagina`` pages of at most 100, string ids,
POST answering 200, required fields, validation errors as HTTP 404 with the
reason in ``data.mensagem``, and 429 "O limite de requisicoes foi atingido"
without Retry-After.

Refused or ignored as [GC-DOC] says (provider-apis.md §1.6–1.8): PUT is a full
replace (required fields again); a product's prices live in ``valores`` per
price type, and a PUT's flat ``valor_venda`` is ignored ("Se os dados de
valores não forem informados, os valores de venda permanecerão inalterados");
a sale needs ``produtos`` naming existing products, a ``situacao_id`` of the
account's, and ``pagamentos`` (or ``forma_pagamento_id`` + ``numero_parcelas``)
whose total is the sale's. The sale's total is GestãoClick's own: each item's
quantity × price less its discount (R$ or %), plus ``valor_frete``, less the
sale's ``desconto_valor``; what a client sends as ``valor_total`` is not taken.
Pages hold 20 records: ``limite`` is not a documented parameter (§1.5), and
is not honoured.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from crm_cli.providers.emulator import BaseEmulator, Reply, Request, retry_after_header

DEFAULT_PAGE = 20

REQUIRED = {
    "clientes": ("tipo_pessoa", "nome"),
    "produtos": ("nome", "codigo_interno", "valor_custo"),
    "vendas": ("tipo", "codigo", "cliente_id", "situacao_id", "data"),
    "orcamentos": ("tipo", "codigo", "cliente_id", "situacao_id", "data"),
}
DELETED_TEXT = {
    "clientes": "Cliente excluido com sucesso",
    "produtos": "Produto excluido com sucesso",
    "vendas": "Venda excluida com sucesso",
    "orcamentos": "Orçamento excluido com sucesso",
}
LOOKUPS = {
    "situacoes_vendas": [
        {"id": "1", "nome": "Em aberto"},
        {"id": "2", "nome": "Concretizada"},
        {"id": "3", "nome": "Cancelada"},
    ],
}
_FISCAL = ("ncm", "cest", "peso_liquido", "peso_bruto")
PRICE_TYPES = [{"id": "1", "nome": "Varejo"}]  # the account's price types (valores[].tipo_id)
CENT = 0.005


def _digits(value: Any) -> str:
    return "".join(ch for ch in str(value or "") if ch.isdigit())


def _error(status: int, erro: str, mensagem: str) -> Reply:
    return Reply(
        status, {"code": status, "status": "error", "data": {"erro": erro, "mensagem": mensagem}}
    )


def _number(value: Any) -> float:
    try:
        return float(str(value).replace(",", "."))
    except (TypeError, ValueError):
        return 0.0


def _cents(value: float) -> float:
    return float(Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _item_total(item: dict[str, Any]) -> float:
    gross = _cents(_number(item.get("quantidade")) * _number(item.get("valor_venda")))
    if item.get("tipo_desconto") == "%":
        return _cents(gross * (1 - _number(item.get("desconto_porcentagem")) / 100))
    return _cents(gross - _number(item.get("desconto_valor")))


def _sale_total(body: dict[str, Any]) -> float:
    """What GestãoClick makes of a sale: items (less their discounts) + freight − discount."""
    items = [e.get("produto") for e in body.get("produtos") or [] if isinstance(e, dict)]
    goods = sum(_item_total(item) for item in items if isinstance(item, dict))
    return _cents(goods + _number(body.get("valor_frete")) - _number(body.get("desconto_valor")))


def _now() -> str:
    """GestãoClick's timestamps: Brazilian wall time, without an offset."""
    return dt.datetime.now(ZoneInfo(ACCOUNT_ZONE)).strftime("%Y-%m-%d %H:%M:%S")


ACCOUNT_ZONE = "America/Sao_Paulo"  # a name: zones are built when used, not at import


class GestaoClickEmulator(BaseEmulator):
    name = "gestao_click"
    CREDENTIALS: ClassVar[dict[str, str]] = {
        "access_token": "demo-access-token",
        "secret_access_token": "demo-secret-token",
    }

    def __init__(
        self, *args: Any, looping_pages: bool = False, ignored_pages: bool = False, **kwargs: Any
    ) -> None:
        # looping_pages: every list answer says the next page is 2 (a server whose
        # pagination never ends); ignored_pages: every page holds the first page's
        # records and says there is a next one (a server that ignores ``pagina``):
        # for the clients' and the importer's loop guards
        super().__init__(*args, looping_pages=looping_pages, ignored_pages=ignored_pages, **kwargs)

    def reset(self) -> None:
        super().reset()
        with self.lock:
            self.price_types = [dict(t) for t in PRICE_TYPES]

    def authorized(self, request: Request) -> bool:
        h = request.headers
        access = h.get("access-token") or h.get("access_token")
        secret = h.get("secret-access-token") or h.get("secret_access_token")
        return (access, secret) == (
            self.credentials["access_token"],
            self.credentials["secret_access_token"],
        )

    def unauthorized(self) -> Reply:
        return _error(401, "Unauthorized", "Token de acesso inválido")

    def too_many(self, retry_after: float | str | None = None) -> Reply:
        reply = _error(429, "Too Many Requests", "O limite de requisicoes foi atingido")
        if retry_after is not None:  # only when a test asks for it: GestãoClick sends none
            reply.headers["Retry-After"] = retry_after_header(retry_after)
        return reply

    def server_error(self) -> Reply:
        return _error(500, "Internal Server Error", "Erro interno")

    # -- routing -----------------------------------------------------------------

    def route(self, request: Request) -> Reply:
        parts = request.path.strip("/").split("/")
        if parts and parts[0] == "api":
            parts = parts[1:]
        if not parts or not parts[0]:
            return _error(404, "Not Found", "Rota não encontrada")
        resource, record_id = parts[0], parts[1] if len(parts) > 1 else None
        if resource in LOOKUPS and request.method == "GET" and record_id is None:
            return self._page(request, LOOKUPS[resource])
        if resource not in REQUIRED or len(parts) > 2:
            return _error(404, "Not Found", "Rota não encontrada")
        return self.crud(request, resource, record_id) or _error(
            405, "Method Not Allowed", "Método não permitido"
        )

    # -- resources --------------------------------------------------------------------

    def _validate(self, resource: str, body: Any) -> Reply | None:
        if not isinstance(body, dict):
            return _error(404, "Not Found", "Corpo da requisição inválido")
        for name in REQUIRED[resource]:
            if str(body.get(name) or "").strip() == "":
                return _error(404, "Not Found", f"O campo {name} é obrigatório")
        if resource == "clientes" and body.get("tipo_pessoa") not in ("PF", "PJ", "ES"):
            return _error(404, "Not Found", "O campo tipo_pessoa deve ser PF, PJ ou ES")
        if resource == "vendas":
            return self._invalid_sale(body)
        if resource == "produtos" and "valores" in body:
            return self._invalid_prices(body["valores"])
        return None

    def _invalid_sale(self, body: dict[str, Any]) -> Reply | None:
        if str(body["situacao_id"]) not in {s["id"] for s in LOOKUPS["situacoes_vendas"]}:
            return _error(404, "Not Found", f"Situação {body['situacao_id']} não encontrada")
        if str(body["cliente_id"]) not in self.records["clientes"]:
            return _error(404, "Not Found", f"Cliente {body['cliente_id']} não encontrado")
        items = body.get("produtos")
        if not isinstance(items, list) or not items:
            return _error(404, "Not Found", "Informe ao menos um produto")
        for entry in items:
            item = entry.get("produto") if isinstance(entry, dict) else None
            if (
                not isinstance(item, dict)
                or str(item.get("produto_id")) not in self.records["produtos"]
            ):
                return _error(404, "Not Found", "Produto da venda não encontrado")
            if _number(item.get("quantidade")) <= 0:
                return _error(404, "Not Found", "A quantidade do produto deve ser maior que 0")
        payments = body.get("pagamentos")
        if not payments:
            if body.get("forma_pagamento_id") and body.get("numero_parcelas"):
                return None  # the server builds the parcelas
            return _error(404, "Not Found", "Informe os pagamentos da venda")
        paid = sum(
            _number((entry.get("pagamento") or {}).get("valor"))
            for entry in payments
            if isinstance(entry, dict)
        )
        if abs(paid - _sale_total(body)) > CENT:
            return _error(404, "Not Found", "A soma dos pagamentos difere do valor total da venda")
        return None

    def _invalid_prices(self, valores: Any) -> Reply | None:
        known = {t["id"] for t in self.price_types}
        if not isinstance(valores, list) or any(
            not isinstance(v, dict) or str(v.get("tipo_id")) not in known for v in valores
        ):
            return _error(404, "Not Found", "Tipo de valor não encontrado")
        return None

    def _stored(
        self, resource: str, body: dict[str, Any], record_id: str, old: dict | None = None
    ) -> dict[str, Any]:
        record = {key: ("" if value is None else value) for key, value in body.items()}
        record["id"] = record_id
        if resource == "produtos":  # POST takes fiscal fields flat; answers nest them
            record["fiscal"] = {key: record.pop(key, None) for key in _FISCAL}
            record.setdefault("estoque", 0)
            record["valores"] = self._prices(body, old)
            record["valor_venda"] = record["valores"][0]["valor_venda"]
        if resource == "vendas":
            record["valor_total"] = f"{_sale_total(body):.2f}"
            for entry in record.get("produtos") or []:
                item = entry.get("produto") if isinstance(entry, dict) else None
                if isinstance(item, dict):
                    item["valor_total"] = f"{_item_total(item):.2f}"
        record.setdefault("ativo", "1")
        record["modificado_em"] = _now()
        return record

    def _prices(self, body: dict[str, Any], old: dict | None) -> list[dict[str, Any]]:
        """A product's ``valores``: a POST's flat valor_venda fills every price type;
        a PUT changes only the types its ``valores`` name (a flat one is ignored)."""
        if old is None:
            flat = str(body.get("valor_venda") or "0.00")
            prices = {t["id"]: flat for t in self.price_types}
        else:
            prices = {v["tipo_id"]: v["valor_venda"] for v in old["valores"]}
        for entry in body.get("valores") or []:
            prices[str(entry["tipo_id"])] = str(entry.get("valor_venda") or "0.00")
        return [
            {
                "tipo_id": t["id"],
                "nome_tipo": t["nome"],
                "lucro_utilizado": None,
                "valor_custo": str(body.get("valor_custo") or "0.00"),
                "valor_venda": prices[t["id"]],
            }
            for t in self.price_types
        ]

    def touch(self, resource: str, record: dict[str, Any], when: dt.datetime | None = None) -> None:
        record["modificado_em"] = (
            when.astimezone(ZoneInfo(ACCOUNT_ZONE)).strftime("%Y-%m-%d %H:%M:%S")
            if when
            else _now()
        )

    def seed(self, resource: str, record: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            record_id = str(record.get("id") or self.new_id(resource))
            stored = self._stored(resource, record, record_id)
            stored.setdefault("cadastrado_em", _now())
            self.records[resource][record_id] = stored
            return stored

    def _create(self, resource: str, body: Any) -> Reply:
        problem = self._validate(resource, body)
        if problem:
            return problem
        with self.lock:
            record = self._stored(resource, body, str(self.new_id(resource)))
            record["cadastrado_em"] = record["modificado_em"]
            self.records[resource][record["id"]] = record
            self.count_create(resource)
        return Reply(200, {"code": 200, "status": "success", "data": record})

    def _one(self, resource: str, record_id: str) -> Reply:
        with self.lock:
            record = self.records[resource].get(record_id)
        if record is None:
            return _error(404, "Not Found", "Registro não encontrado")
        return Reply(200, {"code": 200, "status": "success", "data": record})

    def _update(self, resource: str, record_id: str, body: Any) -> Reply:
        with self.lock:
            old = self.records[resource].get(record_id)
        if old is None:
            return _error(404, "Not Found", "Registro não encontrado")
        problem = self._validate(resource, body)  # PUT is a full replace
        if problem:
            return problem
        with self.lock:
            record = self._stored(resource, body, record_id, old)
            record["cadastrado_em"] = old.get("cadastrado_em")
            self.records[resource][record_id] = record
            self.counters[f"update:{resource}"] += 1
        return Reply(200, {"code": 200, "status": "success", "data": record})

    def _delete(self, resource: str, record_id: str) -> Reply:
        with self.lock:
            if self.records[resource].pop(record_id, None) is None:
                return _error(404, "Not Found", "Registro não encontrado")
        return Reply(200, {"code": 200, "status": "success", "data": DELETED_TEXT[resource]})

    def _list(self, resource: str, request: Request) -> Reply:
        with self.lock:
            items = list(self.records[resource].values())
        q = request.query
        if resource == "clientes":
            if q.get("cpf_cnpj"):
                key = _digits(q["cpf_cnpj"])
                items = [r for r in items if key in (_digits(r.get("cpf")), _digits(r.get("cnpj")))]
            if q.get("email"):
                items = [r for r in items if str(r.get("email", "")).lower() == q["email"].lower()]
            if q.get("situacao") in ("0", "1"):
                items = [r for r in items if str(r.get("ativo")) == q["situacao"]]
        if resource == "produtos" and q.get("codigo"):
            items = [r for r in items if str(r.get("codigo_interno")) == q["codigo"]]
        if resource in ("vendas", "orcamentos"):
            for key in ("codigo", "cliente_id"):
                if q.get(key):
                    items = [r for r in items if str(r.get(key)) == q[key]]
        if q.get("nome"):
            items = [r for r in items if q["nome"].lower() in str(r.get("nome", "")).lower()]
        return self._page(request, items)

    def _page(self, request: Request, items: list[dict[str, Any]]) -> Reply:
        try:
            page = max(1, int(request.query.get("pagina", 1)))
            size = DEFAULT_PAGE
        except ValueError:
            return _error(404, "Not Found", "Parâmetro de paginação inválido")
        items = sorted(items, key=lambda r: int(r["id"]) if str(r["id"]).isdigit() else 0)
        total_pages = max(1, math.ceil(len(items) / size))
        chunk = items[(page - 1) * size : page * size]
        if self.ignored_pages:
            chunk, total_pages = items[:size], page + 1
        path = request.path
        following = page + 1 if page < total_pages else None
        if self.looping_pages:
            following = 2
        previous = page - 1 if page > 1 else None
        meta = {
            "total_registros": len(items),
            "total_paginas": total_pages,
            "total_registros_pagina": len(chunk),
            "total_da_pagina": len(chunk),
            "pagina_atual": page,
            "limite_por_pagina": size,
            "pagina_anterior": previous,
            "url_anterior": f"{path}?pagina={previous}" if previous else None,
            "proxima_pagina": following,
            "proxima_url": f"{path}?pagina={following}" if following else None,
        }
        return Reply(200, {"code": 200, "status": "success", "meta": meta, "data": chunk})
