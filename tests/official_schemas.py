"""Requests and answers held against the providers' official schemas (tests/schemas/).

Each provider's schema is an OpenAPI 3.0 document: Bling's and Pipedrive's are
excerpts of their published specifications; GestãoClick's is its API
Blueprint's rules written as one (README.md in tests/schemas says which
source, version and licence). ``Schemas.problems(exchange)`` names what in an
emulator's exchange the schema refuses: an undocumented operation, query
parameter or value, a request body the operation's schema refuses (read-only
fields left out, as OpenAPI 3.0 says of requests), or a documented answer whose
body the schema refuses. Error answers a schema does not document are not
judged (no provider documents all of them); a success it does not document is.

Where two official sources disagree, ``ERRATA`` says which one the tests follow,
and why.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from openapi_schema_validator import OAS30ReadValidator, OAS30WriteValidator

FOLDER = Path(__file__).parent / "schemas"
FILES = {
    "bling": "bling-openapi-v3.json",
    "pipedrive": "pipedrive-openapi-v2.json",
    "gestao_click": "gestao-click-blueprint.json",
}
# The part of a request's path before the schema's own paths
PREFIXES = {"bling": ("/Api/v3", ""), "pipedrive": ("/api/v2",), "gestao_click": ("/api", "")}
# Not the API's rules but its limits, which tests provoke on purpose
LIMIT_STATUSES = {429}
# Operations documented outside the provider's OpenAPI, not judged here
ELSEWHERE = {
    "bling": (
        # OAuth 2 token endpoint: developer.bling.com.br/aplicativos#tokens-de-acesso
        re.compile(r"/(Api/v3/)?oauth/(token|authorize)"),
    ),
}


@dataclass(frozen=True)
class Erratum:
    pointer: tuple[str | int, ...]  # where in the document ("*": every key there)
    fix: Any  # the value put there
    why: str


_SCHEMAS = ("components", "schemas")
ERRATA = {
    "bling": (
        Erratum(
            (*_SCHEMAS, "VendasItemDTO", "required"),
            ["quantidade", "valor", "descricao"],
            "VendasItemDTO requires 'valorLista', which none of its properties defines, and "
            "'id', which its description says POST ignores; the SDK examples send neither",
        ),
        Erratum(
            (*_SCHEMAS, "VendasParcelaDTO", "required"),
            ["dataVencimento", "valor", "formaPagamento"],
            "VendasParcelaDTO requires 'id', which its description says POST ignores",
        ),
        Erratum(
            (*_SCHEMAS, "ProdutosDimensoesDTO", "properties", "unidadeMedida", "enum"),
            [0, 1, 2],
            "unidadeMedida is an integer whose enum lists strings ('0', '1', '2'): no value can "
            "be both; its example (1) and description say the integers",
        ),
        Erratum(
            (*_SCHEMAS, "ErrorResponse", "required"),
            ["error"],
            "ErrorResponse requires 'error.type', 'message' and 'description' beside 'error': "
            "the members of Error, as every error example shows them",
        ),
    ),
    "pipedrive": (
        Erratum(
            (
                "paths",
                "/persons",
                "post",
                "requestBody",
                "content",
                "application/json",
                "schema",
                "required",
            ),
            ["name"],
            "addPerson requires 'title', which a person does not have; the API reference "
            "and the SDK's AddPersonRequest take 'name'",
        ),
    ),
}
# ``custom_fields`` ({field key: value}) on writes of persons and products: the
# SDK's AddPersonRequest, UpdatePersonRequest and ProductRequest take it, the
# OpenAPI names it only for deals
CUSTOM_FIELDS = {"pipedrive": ("/persons", "/persons/{id}", "/products", "/products/{id}")}
# A person's email and phone ``label`` is a boolean in the OpenAPI, a string ('work',
# 'home') in the SDK's PersonItemEmail and PersonItemPhone and the API reference
LABELS = {"pipedrive": ("emails", "phones")}
# A deal product's quantity is a number in every request body (addDealProduct,
# addManyDealProducts, updateDealProduct) and in the official SDK's models
# (get-deals-products-response-data-inner-all-of.d.ts: quantity?: number), an
# integer in the answers of those operations: a number wherever it is an integer
NUMBERS = {"pipedrive": ("quantity",)}
# ``next_cursor`` "will be null if you have reached the end of the dataset" (its
# own description, and the SDK's): nullable wherever it is declared
NULLABLE = {"pipedrive": ("next_cursor",)}


@dataclass(frozen=True)
class Operation:
    path: str  # the schema's template
    method: str
    spec: dict[str, Any]
    path_params: dict[str, str]


class Schemas:
    def __init__(self, provider: str) -> None:
        self.provider = provider
        self.document = _document(provider)
        self.components = self.document.get("components", {})
        # literal paths before templated ones: /deals/products is not /deals/{id}
        self._paths = sorted(
            ((path, _pattern(path)) for path in self.document["paths"]),
            key=lambda entry: (entry[0].count("{"), entry[0]),
        )

    def operation(self, method: str, path: str) -> Operation | None:
        for prefix in PREFIXES[self.provider]:
            if not path.startswith(prefix):
                continue
            rest = path[len(prefix) :] or "/"
            for template, pattern in self._paths:
                found = pattern.fullmatch(rest)
                operations = self.document["paths"][template]
                if found and method.lower() in operations:
                    return Operation(
                        template, method.lower(), operations[method.lower()], found.groupdict()
                    )
        return None

    def problems(self, exchange: Any, request: bool = True) -> list[str]:
        """What the schema refuses in one exchange (an empty list: nothing);
        ``request`` False: in its answer only (a test's own request, made wrong on
        purpose, is not judged)."""
        where = f"{exchange.method} {exchange.path}"
        elsewhere = ELSEWHERE.get(self.provider, ())
        if exchange.status in LIMIT_STATUSES or any(p.fullmatch(exchange.path) for p in elsewhere):
            return []
        operation = self.operation(exchange.method, exchange.path)
        if operation is None:
            return [f"{where}: not a documented operation"] if request else []
        found = []
        if request:
            found += [f"{where}: {p}" for p in self._parameter_problems(operation, exchange)]
            found += [f"{where} request: {p}" for p in self._body_problems(operation, exchange)]
        answer = self._answer_problems(operation, exchange)
        return found + [f"{where} → {exchange.status}: {p}" for p in answer]

    # -- parts ---------------------------------------------------------------------------

    def _parameters(self, operation: Operation) -> dict[tuple[str, str], dict[str, Any]]:
        declared = {}
        for parameter in operation.spec.get("parameters", []):
            parameter = self._resolve(parameter)
            declared[(parameter["in"], parameter["name"])] = parameter
        return declared

    def _parameter_problems(self, operation: Operation, exchange: Any) -> list[str]:
        declared = self._parameters(operation)
        found = []
        given = {("query", name): values for name, values in exchange.query.items()}
        given |= {("path", name): [value] for name, value in operation.path_params.items()}
        for key, values in given.items():
            parameter = declared.get(key)
            if parameter is None:
                found.append(f"{key[0]} parameter '{key[1]}' is not documented")
                continue
            schema = parameter.get("schema", {})
            for value in values:
                problem = _value_problem(schema, value)
                if problem:
                    found.append(f"{key[0]} parameter '{key[1]}' = {value!r}: {problem}")
        for key, parameter in declared.items():
            if parameter.get("required") and key not in given:
                found.append(f"required {key[0]} parameter '{key[1]}' is missing")
        return found

    def _body_problems(self, operation: Operation, exchange: Any) -> list[str]:
        body_spec = operation.spec.get("requestBody")
        if body_spec is None:
            return [] if exchange.body is None else ["the operation takes no body"]
        body_spec = self._resolve(body_spec)
        schema = body_spec.get("content", {}).get("application/json", {}).get("schema")
        if exchange.body is None:
            return ["the required body is missing"] if body_spec.get("required") else []
        if schema is None:
            return ["a JSON body where the operation documents none"]
        undeclared = [
            f"{where}: not in the schema" for where in self._undeclared(schema, exchange.body)
        ]
        return undeclared + self._validate(OAS30WriteValidator, schema, exchange.body)

    def _undeclared(self, schema: dict[str, Any], value: Any, where: str = "") -> list[str]:
        """The fields of ``value`` its schema does not name, where it names its fields:
        a service ignores those silently (Bling's precoCusto), so a client sending one
        believes in a write that never happens."""
        schema = self._resolve(schema)
        if isinstance(value, list):
            items = schema.get("items")
            found = []
            for n, each in enumerate(value):
                found += self._undeclared(items, each, f"{where}/{n}") if items else []
            return found
        if not isinstance(value, dict):
            return []
        declared = self._properties(schema)
        if declared is None:
            return []  # a free-form object (additionalProperties, or no properties)
        found = []
        for key, member in value.items():
            if key not in declared:
                found.append(f"{where}/{key}")
            else:
                found += self._undeclared(declared[key], member, f"{where}/{key}")
        return found

    def _properties(self, schema: dict[str, Any]) -> dict[str, Any] | None:
        """Every property a schema names, through allOf (None: it takes any)."""
        schema = self._resolve(schema)
        if schema.get("additionalProperties") not in (None, False):
            return None
        named = dict(schema.get("properties", {}))
        for part in schema.get("allOf", []):
            more = self._properties(part)
            if more is None:
                return None
            named.update(more)
        return named if named or schema.get("additionalProperties") is False else None

    def _answer_problems(self, operation: Operation, exchange: Any) -> list[str]:
        responses = operation.spec.get("responses", {})
        answer = responses.get(str(exchange.status))
        if answer is None:
            if exchange.status >= 400:
                return []  # errors no provider documents in full
            return [f"status {exchange.status} is not documented ({', '.join(responses)})"]
        schema = self._resolve(answer).get("content", {}).get("application/json", {})
        if not schema.get("schema"):
            return [] if exchange.answer in (None, "") else ["a body where none is documented"]
        return self._validate(OAS30ReadValidator, schema["schema"], exchange.answer)

    def _validate(self, kind: Any, schema: dict[str, Any], value: Any) -> list[str]:
        root = {**schema, "components": self.components}
        return [
            f"{'/'.join(str(p) for p in error.absolute_path) or '(body)'}: {error.message}"
            for error in kind(root).iter_errors(value)
        ]

    def _resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            _, _, section, name = node["$ref"].split("/", 3)
            node = self.components[section][name]
        return node


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    return re.compile(
        "".join(
            f"(?P<{part[1:-1]}>[^/]+)" if part.startswith("{") else re.escape(part)
            for part in parts
        )
    )


def _value_problem(schema: dict[str, Any], value: str) -> str | None:
    """Whether a query or path value is what its schema says (their text form)."""
    kind = schema.get("type")
    if kind == "array":
        return _value_problem(schema.get("items", {}), value)
    if kind == "integer" and not re.fullmatch(r"-?\d+", value):
        return "not an integer"
    if kind == "number" and not re.fullmatch(r"-?\d+(\.\d+)?", value):
        return "not a number"
    if kind == "boolean" and value not in ("true", "false"):
        return "not a boolean"
    enum = schema.get("enum")
    if enum is not None and value not in [
        str(e).lower() if isinstance(e, bool) else str(e) for e in enum
    ]:
        return f"not one of {enum}"
    return None


@cache
def _document(provider: str) -> dict[str, Any]:
    document = json.loads((FOLDER / FILES[provider]).read_text(encoding="utf-8"))
    document = copy.deepcopy(document)
    for erratum in ERRATA.get(provider, ()):
        node = document
        for key in erratum.pointer[:-1]:
            node = node[key]
        node[erratum.pointer[-1]] = erratum.fix
    for names, change in (
        (NULLABLE, _nullable),
        (NUMBERS, _integer_as_number),
        (LABELS, _label_as_text),
    ):
        for name in names.get(provider, ()):
            _each_declared(document, name, change)
    for path in CUSTOM_FIELDS.get(provider, ()):
        for operation in document["paths"][path].values():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body is not None:
                body["schema"].setdefault("properties", {})["custom_fields"] = {
                    "type": "object",
                    "additionalProperties": True,
                }
    return document


def _each_declared(node: Any, name: str, change: Callable[[dict[str, Any]], None]) -> None:
    """``change`` every schema of a property called ``name``, wherever it is declared."""
    if isinstance(node, dict):
        declared = node.get("properties", {}).get(name)
        if isinstance(declared, dict):
            change(declared)
        for value in node.values():
            _each_declared(value, name, change)
    elif isinstance(node, list):
        for value in node:
            _each_declared(value, name, change)


def _label_as_text(declared: dict[str, Any]) -> None:
    label = declared.get("items", {}).get("properties", {}).get("label")
    if isinstance(label, dict):
        label["type"] = "string"


def _integer_as_number(declared: dict[str, Any]) -> None:
    if declared.get("type") == "integer":
        declared["type"] = "number"


def _nullable(declared: dict[str, Any]) -> None:
    declared["nullable"] = True


@cache
def schemas(provider: str) -> Schemas:
    return Schemas(provider)


def violations(emulator: Any, requests_too: bool = True) -> list[str]:
    """What the provider's schema refuses in the emulator's exchanges: the requests
    crm-cli sent (its User-Agent; ``requests_too`` False: none) and every answer."""
    checker = schemas(emulator.name)
    found: list[str] = []
    for exchange in emulator.exchanges:
        ours = requests_too and exchange.user_agent.startswith("crm-cli/")
        found += checker.problems(exchange, request=ours)
    return found
