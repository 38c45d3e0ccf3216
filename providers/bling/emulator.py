"""A Bling API v3 on loopback, written from the API facts (provider-apis.md §3):
``/Api/v3`` paths (also without the prefix), OAuth2 token endpoint with Basic
client auth, single-use authorisation codes and rotating refresh tokens,
access tokens that expire (``token_ttl``, shortened for tests), the
``{data: …}`` envelope (POST answers ``{data: {id}}``, PUT /contatos and
DELETE an empty body), ``pagina``/``limite`` pages of at most 100 without
metadata, errors as ``{error: {type, message, description, fields}}``, and 429
with ``limit`` and ``period``.

Refused or ignored as the official OpenAPI (https://api.bling.com.br/Api/v3,
developer.bling.com.br/referencia) says: list filters only by their documented
names (products by ``codigos[]``; an unknown name filters nothing); list items
hold only their documented subset; a sales order needs ``itens[]`` and
``parcelas[]`` adding up to its total (items + freight − discount), with
numbers as JSON numbers, its three dates, and each parcela's
``formaPagamento`` (one of the account's, ``/formas-pagamentos``); PUT
``/contatos/{id}`` answers 204, PUT ``/produtos/{id}`` and
``/pedidos/vendas/{id}`` 200 with ``{data}``; PATCH ``/produtos/{id}`` changes
what it names. Read-only fields a write carries (``precoCusto``: the default
supplier's price) are not taken. Lists read what ``criterio`` says, by default
"Últimos incluídos" (the newest first, a page at most); products by default only
those with stock (``filtroSaldoEstoque`` 1); ``pesquisa`` finds contacts by
name, document, e-mail or code; ``dataAlteracaoInicial``/``Final`` ("YYYY-MM-DD
HH:MM:SS", the account's Brazilian time, a range of at most a year) keep the
records changed in between (Bling's list items do not show that time).
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets
import time
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from crm_cli.providers.emulator import BaseEmulator, Reply, Request, is_number

RESOURCES = {
    "contatos": ("nome",),
    "produtos": ("nome", "codigo"),
    "pedidos/vendas": ("contato", "data", "dataSaida", "dataPrevista", "itens", "parcelas"),
    "formas-pagamentos": (),
}
READ_ONLY = {"produtos": ("precoCusto", "idProdutoPai", "imagemURL", "estoque")}
# criterio → which records a list holds (official OpenAPI, GET /contatos, /produtos);
# None: "Últimos incluídos", the newest first and one page at most.
CRITERIA = {
    "contatos": {
        1: lambda r: True,
        2: lambda r: r.get("situacao") == "E",
        3: None,
        4: lambda r: r.get("situacao") == "S",
    },
    "produtos": {
        1: None,
        2: lambda r: r.get("situacao", "A") == "A",
        3: lambda r: r.get("situacao") == "I",
        4: lambda r: r.get("situacao") == "E",
        5: lambda r: True,
    },
}
DEFAULT_CRITERIO = {"contatos": 3, "produtos": 1}
# What Bling fills in when a write leaves it out (the schema's defaults; read, required)
DEFAULTS = {
    "contatos": {"situacao": "A", "tipo": "F"},
    "produtos": {"situacao": "A", "tipo": "P", "formato": "S"},
}
STOCK = {0: lambda n: n == 0, 1: lambda n: n > 0, 2: lambda n: n < 0}
SEARCHED = ("nome", "fantasia", "numeroDocumento", "email", "codigo")
PAYMENT_FORMS = [
    {
        "id": 1001,
        "descricao": "Dinheiro",
        "tipoPagamento": 1,
        "situacao": 1,
        "fixa": True,
        "padrao": 1,
        "finalidade": 3,
    },
    {
        "id": 1002,
        "descricao": "PIX",
        "tipoPagamento": 17,
        "situacao": 1,
        "fixa": False,
        "padrao": 0,
        "finalidade": 3,
    },
]
# Record key each documented filter matches; ``[]`` names take repeated values.
FILTERS = {
    "contatos": {"numeroDocumento": "numeroDocumento"},
    "produtos": {"codigos[]": "codigo", "idsProdutos[]": "id"},
    "pedidos/vendas": {
        "numero": "numero",
        "numerosLojas[]": "numeroLoja",
        "idContato": "contato.id",
    },
}
ACCOUNT_ZONE = ZoneInfo("America/Sao_Paulo")
CHANGED = "%Y-%m-%d %H:%M:%S"  # dataAlteracaoInicial/Final (official OpenAPI example)
MAX_CHANGE_RANGE = dt.timedelta(days=366)  # developer.bling.com.br/limites#filtros
PUT_STATUS = {"contatos": 204, "produtos": 200, "pedidos/vendas": 200}
# What a list item holds: a subset of the record (provider-apis.md §3, the
# official SDK's list interfaces); GET /<resource>/{id} answers the whole record.
LIST_FIELDS = {
    "contatos": ("id", "nome", "codigo", "situacao", "numeroDocumento", "telefone", "celular"),
    "produtos": (
        "id",
        "idProdutoPai",
        "nome",
        "codigo",
        "preco",
        "precoCusto",
        "estoque",
        "tipo",
        "situacao",
        "formato",
        "descricaoCurta",
        "imagemURL",
    ),
    "pedidos/vendas": (
        "id",
        "numero",
        "numeroLoja",
        "data",
        "dataSaida",
        "dataPrevista",
        "totalProdutos",
        "total",
        "contato",
        "situacao",
        "loja",
    ),
}


def _field_error(element: str, msg: str) -> Reply:
    return _error(
        400,
        "VALIDATION_ERROR",
        "Não foi possível salvar a venda",
        fields=[{"code": 1, "msg": msg, "element": element, "namespace": "VENDAS"}],
    )


def _totals(order: dict[str, Any]) -> dict[str, float]:
    """What Bling works out of an order: items (less their % discount) + freight + other
    expenses − discount."""
    goods = sum(
        i["quantidade"] * i["valor"] * (1 - (i.get("desconto") or 0) / 100) for i in order["itens"]
    )
    freight = (order.get("transporte") or {}).get("frete") or 0
    discount = (order.get("desconto") or {}).get("valor") or 0
    other = order.get("outrasDespesas") or 0
    total = goods + freight + other - discount
    return {"totalProdutos": round(goods, 2), "total": round(total, 2)}


def _stock(record: dict[str, Any]) -> float:
    stock = record.get("estoque")
    value = stock.get("saldoVirtualTotal") if isinstance(stock, dict) else None
    return float(value) if is_number(value) else 0.0


def _value(record: dict[str, Any], dotted: str) -> Any:
    for part in dotted.split("."):
        record = record.get(part) if isinstance(record, dict) else None  # type: ignore[assignment]
    return record


def _error(status: int, kind: str, description: str, **extra: Any) -> Reply:
    return Reply(
        status, {"error": {"type": kind, "message": kind, "description": description, **extra}}
    )


class BlingEmulator(BaseEmulator):
    name = "bling"
    CREDENTIALS: ClassVar[dict[str, str]] = {
        "client_id": "demo-client-id",
        "client_secret": "demo-client-secret",
        "refresh_token": "demo-refresh-token",
    }
    OPTIONS: ClassVar[dict[str, type]] = {"token_ttl": float}  # seconds an access token lives

    def __init__(self, *args: Any, token_ttl: float = 21600, **kwargs: Any) -> None:
        super().__init__(*args, token_ttl=token_ttl, **kwargs)

    def reset(self) -> None:
        super().reset()
        with self.lock:
            for form in PAYMENT_FORMS:
                self.records["formas-pagamentos"][str(form["id"])] = dict(form)
            self.refresh_tokens = {self.credentials["refresh_token"]}
            self.access_tokens: dict[str, float] = {}
            self.codes: set[str] = set()
            # when each record last changed, by resource and id (Bling's wall time)
            self.altered: dict[str, dict[str, dt.datetime]] = {}

    def issue_code(self) -> str:
        """An authorisation code, as the consent page would put on the redirect URL."""
        code = secrets.token_hex(8)
        with self.lock:
            self.codes.add(code)
        return code

    def revoke_refresh_tokens(self) -> None:
        with self.lock:
            self.refresh_tokens.clear()

    # -- auth --------------------------------------------------------------------------

    def authorized(self, request: Request) -> bool:
        if self._is_token_path(request.path):
            return True  # the token endpoint checks its own (Basic) credentials
        header = request.headers.get("authorization", "")
        token = header[7:] if header.startswith("Bearer ") else ""
        with self.lock:
            expires = self.access_tokens.get(token)
        return expires is not None and expires > time.time()

    def unauthorized(self) -> Reply:
        return _error(401, "invalid_token", "invalid_token")

    def too_many(self, retry_after: float | str | None = None) -> Reply:
        period = "day" if self.daily and self.day_count() > self.daily else "second"
        limit = self.daily if period == "day" else int(self.rate or 3)
        return _error(
            429, "TOO_MANY_REQUESTS", "Limite de requisições atingido", limit=limit, period=period
        )

    def server_error(self) -> Reply:
        return _error(500, "SERVER_ERROR", "Erro interno")

    @staticmethod
    def _is_token_path(path: str) -> bool:
        return path.rstrip("/").endswith("/oauth/token")

    def _token(self, request: Request, raw_form: dict[str, str]) -> Reply:
        basic = request.headers.get("authorization", "")
        expected = base64.b64encode(
            f"{self.credentials['client_id']}:{self.credentials['client_secret']}".encode()
        ).decode()
        if basic != f"Basic {expected}":
            return _error(401, "invalid_client", "Credenciais do aplicativo inválidas")
        grant = raw_form.get("grant_type")
        with self.lock:
            if grant == "refresh_token" and raw_form.get("refresh_token") in self.refresh_tokens:
                self.refresh_tokens.discard(raw_form["refresh_token"])  # rotation: single use
            elif grant == "authorization_code" and raw_form.get("code") in self.codes:
                self.codes.discard(raw_form["code"])  # single use
            else:
                return _error(400, "invalid_grant", "Invalid grant")
            access, refresh = secrets.token_hex(16), secrets.token_hex(16)
            self.access_tokens[access] = time.time() + self.token_ttl
            self.refresh_tokens.add(refresh)
            self.counters[f"token:{grant}"] += 1
        return Reply(
            200,
            {
                "access_token": access,
                "expires_in": int(self.token_ttl),
                "token_type": "Bearer",
                "scope": "98309 318257570",
                "refresh_token": refresh,
            },
        )

    # -- resources ------------------------------------------------------------------------

    def route(self, request: Request) -> Reply:
        path = request.path.strip("/")
        path = path[len("Api/v3/") :] if path.startswith("Api/v3/") else path
        if self._is_token_path("/" + path):
            return (
                self._token(request, request.form)
                if request.method == "POST"
                else (_error(405, "VALIDATION_ERROR", "Método não permitido"))
            )
        resource, record_id = self._split(path)
        if resource is None:
            return _error(404, "RESOURCE_NOT_FOUND", "Recurso não encontrado")
        if resource == "produtos" and record_id and request.method == "PATCH":
            return self._patch(resource, record_id, request.body)
        return self.crud(request, resource, record_id) or _error(
            405, "VALIDATION_ERROR", "Método não permitido"
        )

    @staticmethod
    def _split(path: str) -> tuple[str | None, str | None]:
        for resource in RESOURCES:
            if path == resource:
                return resource, None
            if path.startswith(resource + "/") and "/" not in path[len(resource) + 1 :]:
                return resource, path[len(resource) + 1 :]
        return None, None

    def _invalid(self, resource: str, body: Any) -> Reply | None:
        if not isinstance(body, dict):
            return _error(400, "VALIDATION_ERROR", "Corpo inválido")
        missing = [f for f in RESOURCES[resource] if not body.get(f)]
        if missing:
            return _error(
                400,
                "MISSING_REQUIRED_FIELD_ERROR",
                "Campos obrigatórios",
                fields=[
                    {"code": 1, "msg": f"O campo {f} é obrigatório", "element": f} for f in missing
                ],
            )
        if resource == "pedidos/vendas":
            return self._invalid_order(body)
        return None

    def _invalid_order(self, body: dict[str, Any]) -> Reply | None:
        contact = body["contato"].get("id") if isinstance(body["contato"], dict) else None
        if not is_number(contact) or str(contact) not in self.records["contatos"]:
            return _field_error("contato", "Contato não encontrado")
        for item in body["itens"] if isinstance(body["itens"], list) else [None]:
            if not isinstance(item, dict):
                return _field_error("itens", "Item inválido")
            for name in ("quantidade", "valor"):
                if not is_number(item.get(name)):
                    return _field_error(f"itens.{name}", f"O campo {name} deve ser numérico")
            product = (item.get("produto") or {}).get("id")
            if product is not None and str(product) not in self.records["produtos"]:
                return _field_error("itens.produto", "Produto não encontrado")
        forms = self.records["formas-pagamentos"]
        for parcela in body["parcelas"] if isinstance(body["parcelas"], list) else []:
            forma = (parcela.get("formaPagamento") or {}) if isinstance(parcela, dict) else {}
            if str(forma.get("id")) not in forms:
                return _field_error("parcelas.formaPagamento", "Forma de pagamento inválida")
        freight = (body.get("transporte") or {}).get("frete") or 0
        discount = (body.get("desconto") or {}).get("valor") or 0
        if not all(is_number(v) for v in (freight, discount)):
            return _field_error("desconto", "Valores devem ser numéricos")
        total = _totals(body)["total"]
        parcelas = body["parcelas"] if isinstance(body["parcelas"], list) else [None]
        if any(not isinstance(p, dict) or not is_number(p.get("valor")) for p in parcelas):
            return _field_error("parcelas.valor", "O valor da parcela deve ser numérico")
        if abs(sum(p["valor"] for p in parcelas) - total) > 0.005:
            return _field_error(
                "parcelas", f"A soma das parcelas difere do total da venda ({total:.2f})"
            )
        return None

    def _as_stored(self, resource: str, body: dict[str, Any]) -> dict[str, Any]:
        ignored = ("id", *READ_ONLY.get(resource, ()))
        stored = {k: v for k, v in body.items() if k not in ignored}
        if resource == "pedidos/vendas":
            stored.update(_totals(body))
            contact = self.records["contatos"].get(str((body.get("contato") or {}).get("id")))
            stored["contato"] = {**body["contato"], "nome": (contact or {}).get("nome", "")}
        return stored

    def seed(self, resource: str, record: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            record = {**DEFAULTS.get(resource, {}), **record}
            stored = {**record, "id": int(record.get("id") or self.new_id(resource))}
            self.records[resource][str(stored["id"])] = stored
            self.touch(resource, stored)
            return stored

    def touch(self, resource: str, record: dict[str, Any], when: dt.datetime | None = None) -> None:
        local = (when or dt.datetime.now(dt.timezone.utc)).astimezone(ACCOUNT_ZONE)
        with self.lock:
            altered = self.altered.setdefault(resource, {})
            altered[str(record["id"])] = local.replace(tzinfo=None, microsecond=0)

    def _create(self, resource: str, body: Any) -> Reply:
        problem = self._invalid(resource, body)
        if problem:
            return problem
        record = self._as_stored(resource, body)
        if resource == "pedidos/vendas" and record.get("numero") is None:
            record["numero"] = self._next_number()  # Bling numbers an order sent without
        stored = self.seed(resource, record)
        self.count_create(resource)
        return Reply(201, {"data": {"id": stored["id"]}})

    @staticmethod
    def _by_criterio(
        resource: str, request: Request, items: list[dict[str, Any]]
    ) -> list[dict[str, Any]] | None:
        """The records ``criterio``, ``filtroSaldoEstoque`` and ``pesquisa`` keep
        (None: a value the schema's enum refuses)."""
        query = request.query
        try:
            criterio = int(query.get("criterio", DEFAULT_CRITERIO.get(resource, 0)))
            stock = int(query.get("filtroSaldoEstoque", 1))
        except ValueError:
            return None
        if resource in CRITERIA:
            if criterio not in CRITERIA[resource]:
                return None
            keep = CRITERIA[resource][criterio]
            items = items[::-1][:100] if keep is None else [r for r in items if keep(r)]
        if resource == "produtos":
            if stock not in STOCK:
                return None
            items = [r for r in items if STOCK[stock](_stock(r))]
        wanted = str(query.get("pesquisa") or "").lower()
        if resource == "contatos" and wanted:
            items = [
                r for r in items if any(wanted in str(r.get(k) or "").lower() for k in SEARCHED)
            ]
        return items

    def _changed_between(
        self, resource: str, request: Request, items: list[dict[str, Any]]
    ) -> list[dict[str, Any]] | None:
        """The records changed within dataAlteracaoInicial/Final (None: a bad date,
        or a range over a year)."""
        first, last = (request.query.get(f"dataAlteracao{e}") for e in ("Inicial", "Final"))
        if first is None and last is None:
            return items
        try:
            start = dt.datetime.strptime(first, CHANGED) if first else None
            end = dt.datetime.strptime(last, CHANGED) if last else None
        except ValueError:
            return None
        today = dt.datetime.now(ACCOUNT_ZONE).replace(tzinfo=None)
        if (end or today) - (start or today) > MAX_CHANGE_RANGE:
            return None
        with self.lock:
            altered = dict(self.altered.get(resource, {}))
        return [
            r
            for r in items
            if (when := altered.get(str(r["id"]))) is not None
            and (start is None or when >= start)
            and (end is None or when <= end)
        ]

    def _next_number(self) -> int:
        with self.lock:
            taken = [r.get("numero") for r in self.records["pedidos/vendas"].values()]
        return max([n for n in taken if isinstance(n, int)] or [0]) + 1

    def _one(self, resource: str, record_id: str) -> Reply:
        with self.lock:
            record = self.records[resource].get(record_id)
        if record is None:
            return _error(404, "RESOURCE_NOT_FOUND", "Registro não encontrado")
        return Reply(200, {"data": record})

    def _update(self, resource: str, record_id: str, body: Any) -> Reply:
        with self.lock:
            exists = record_id in self.records[resource]
        if not exists:
            return _error(404, "RESOURCE_NOT_FOUND", "Registro não encontrado")
        problem = self._invalid(resource, body)
        if problem:
            return problem
        with self.lock:
            self.records[resource][record_id] = {
                **DEFAULTS.get(resource, {}),
                **self._as_stored(resource, body),
                "id": int(record_id),
            }
            self.touch(resource, self.records[resource][record_id])
            self.counters[f"update:{resource}"] += 1
        if PUT_STATUS[resource] == 200:
            return Reply(200, {"data": {"id": int(record_id)}})
        return Reply(204, b"")

    def _patch(self, resource: str, record_id: str, body: Any) -> Reply:
        """PATCH /produtos/{id}: the fields it names change, the others stay."""
        with self.lock:
            old = self.records[resource].get(record_id)
        if old is None:
            return _error(404, "RESOURCE_NOT_FOUND", "Registro não encontrado")
        if not isinstance(body, dict):
            return _error(400, "VALIDATION_ERROR", "Corpo inválido")
        with self.lock:
            changed = {**old, **self._as_stored(resource, body), "id": int(record_id)}
            self.records[resource][record_id] = changed
            self.touch(resource, changed)
            self.counters[f"update:{resource}"] += 1
        return Reply(200, {"data": {"id": int(record_id)}})

    def _delete(self, resource: str, record_id: str) -> Reply:
        with self.lock:
            if self.records[resource].pop(record_id, None) is None:
                return _error(404, "RESOURCE_NOT_FOUND", "Registro não encontrado")
        return Reply(204, b"")

    def _list(self, resource: str, request: Request) -> Reply:
        try:
            page = max(1, int(request.query.get("pagina", 1)))
            size = min(100, max(1, int(request.query.get("limite", 100))))
        except ValueError:
            return _error(400, "VALIDATION_ERROR", "Paginação inválida")
        with self.lock:
            items = sorted(self.records[resource].values(), key=lambda r: int(r["id"]))
        items = self._by_criterio(resource, request, items)
        if items is None:
            return _error(400, "VALIDATION_ERROR", "Parâmetro inválido")
        items = self._changed_between(resource, request, items)
        if items is None:
            return _error(400, "VALIDATION_ERROR", "Período de alteração inválido")
        for name, key in FILTERS.get(resource, {}).items():
            wanted = request.query_all.get(name)
            if wanted:  # a repeated name (codigos[]=a&codigos[]=b) takes any of them
                items = [r for r in items if str(_value(r, key)) in wanted]
        if resource == "formas-pagamentos" and request.query.get("situacao") in ("0", "1"):
            items = [r for r in items if str(r.get("situacao")) == request.query["situacao"]]
        fields = LIST_FIELDS.get(resource)
        if fields is not None:
            items = [{k: v for k, v in item.items() if k in fields} for item in items]
        return Reply(200, {"data": items[(page - 1) * size : page * size]})
