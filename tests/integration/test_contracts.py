"""Contract tests: the providers' documented examples, replayed against our emulators
and compared with what our clients send (``tests/integration/contracts/<provider>.json``, each
file naming its source).

- Replayed: the emulator answers each documented request with the documented
  status and a body of the documented shape (same keys, same JSON types).
- Compared: for an example with a ``client`` part, the ERP row goes through the
  handler and the client to the emulator; the body the emulator received may
  hold only keys the documented request has, with the same JSON types, and the
  emulator must accept it.
So a drift between client, emulator and documentation fails here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests

from crm_cli.services.service_crm import ServiceCrm
from crm_cli.settings import load_settings
from tests.integration.support import configure_emulated_store

CONTRACTS = Path(__file__).parent / "contracts"
STORES = {"gestao_click": 1, "pipedrive": 2, "bling": 3}
# the emulator's resource of a path, for seeding
BASES = {"gestao_click": "/api/", "pipedrive": "/api/v2/", "bling": "/Api/v3/"}


def _examples(provider: str, with_client: bool = False) -> list[Any]:
    data = json.loads((CONTRACTS / f"{provider}.json").read_text(encoding="utf-8"))
    assert data["source"], "every contract file names its source"
    examples = [e for e in data["examples"] if not with_client or "client" in e]
    return [pytest.param(provider, e, id=f"{provider}: {e['name']}") for e in examples]


ALL = [p for name in STORES for p in _examples(name)]
WITH_CLIENT = [p for name in STORES for p in _examples(name, with_client=True)]


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return type(value).__name__


def shape_problems(documented: Any, actual: Any, where: str = "") -> list[str]:
    """Where ``actual`` lacks a key of ``documented`` or has another JSON type."""
    if documented is None:
        return []
    if _kind(documented) != _kind(actual):
        return [f"{where or '<body>'}: documented {_kind(documented)}, got {_kind(actual)}"]
    if isinstance(documented, dict):
        problems = []
        for key, value in documented.items():
            if key not in actual:
                problems.append(f"{where}.{key}: missing")
            else:
                problems += shape_problems(value, actual[key], f"{where}.{key}")
        return problems
    if isinstance(documented, list) and documented:
        if not actual:
            return [f"{where}: documented items, got none"]
        return [p for each in actual for p in shape_problems(documented[0], each, f"{where}[]")]
    return []


def undocumented(documented: Any, sent: Any, where: str = "") -> list[str]:
    """Keys ``sent`` holds that ``documented`` lacks, and leaves of another JSON type."""
    if documented is None or sent is None:
        return []
    if _kind(documented) != _kind(sent):
        return [f"{where or '<body>'}: documented {_kind(documented)}, sent {_kind(sent)}"]
    if isinstance(sent, dict):
        problems = []
        for key, value in sent.items():
            if key not in documented:
                problems.append(f"{where}.{key}: not in the documented request")
            else:
                problems += undocumented(documented[key], value, f"{where}.{key}")
        return problems
    if isinstance(sent, list) and documented:
        return [p for each in sent for p in undocumented(documented[0], each, f"{where}[]")]
    return []


@pytest.fixture
def stores(cli, erp, gc_emulator, pd_emulator, bling_emulator):
    emulators = {"gestao_click": gc_emulator, "pipedrive": pd_emulator, "bling": bling_emulator}

    def store(provider: str, **settings: Any):
        emulator = emulators[provider]
        configure_emulated_store(cli, STORES[provider], emulator, **settings)
        client = ServiceCrm(erp, load_settings()).client(STORES[provider])
        return emulator, client

    return store


def _seed(emulator, example: dict) -> None:
    for resource, records in (example.get("seed") or {}).items():
        for record in records:
            emulator.seed(resource, dict(record))


@pytest.mark.parametrize("provider, example", ALL)
def test_the_emulator_answers_as_documented(stores, provider, example):
    emulator, client = stores(provider)
    _seed(emulator, example)
    call = example["request"]

    answer = requests.request(
        call["method"],
        f"{emulator.url}{call['path']}",
        params=call.get("query"),
        json=call.get("body"),
        headers=client.auth_headers(),
        timeout=5,
    )

    expected = example["response"]
    assert answer.status_code == expected["status"], answer.text
    body = answer.json() if answer.content else None
    assert shape_problems(expected["body"], body) == []
    if "count" in example:
        assert len(body["data"]) == example["count"]
    for key in example.get("absent", []):
        assert all(key not in item for item in body["data"]), f"{key} is not in list items"


@pytest.mark.parametrize("provider, example", WITH_CLIENT)
def test_the_client_sends_only_what_the_documentation_has(stores, provider, example):
    part = example["client"]
    emulator, client = stores(provider, **part.get("settings", {}))
    _seed(emulator, example)
    handler = client.entity(part["entity"]).load_handler()
    payload = handler.to_external(part["row"])

    if part["operation"] == "criar":
        client.criar(part["entity"], payload)  # the emulator accepted it
    else:
        client.atualizar(part["entity"], example["request"]["path"].rsplit("/", 1)[1], payload)

    writes = [e for e in emulator.journal if e[0] in ("POST", "PUT", "PATCH")]
    [(method, _path, sent)] = [e for e in writes if not e[1].endswith("/oauth/token")]
    assert method == example["request"]["method"]
    assert undocumented(example["request"]["body"], sent) == []


def test_the_shape_checks_can_fail():
    assert shape_problems({"data": {"id": 1}}, {"data": {"id": "1"}}) == [
        ".data.id: documented number, got str"
    ]
    assert undocumented({"a": 1}, {"a": 1, "b": 2}) == [".b: not in the documented request"]
